package dev.guestmem.dirty;

import dev.guestmem.memslot.Memslot;
import dev.guestmem.mmu.DirtyTracker;
import dev.guestmem.vcpu.MmuVcpu;
import java.util.concurrent.atomic.LongAdder;

/**
 * {@code mark_page_dirty_in_slot} (spec §4.2): the one place a guest write becomes visible to dirty
 * logging. The MMU calls it when it makes an SPTE of a logging slot writable (fault or fast path) and when
 * it emulates a store; {@link GuestWriter} calls it for writes the VMM makes on the guest's behalf.
 *
 * <p>With dirty rings and a vCPU running on the calling thread, the page goes to that vCPU's ring;
 * otherwise to the slot's bitmap. With rings, no running vCPU and no bitmap, the kernel loses the update
 * (and WARNs): that case is counted in {@link #lostWithoutVcpu()}, which must stay 0.
 */
final class DirtyMarker implements DirtyTracker {
    private final DirtyLogCaps caps;
    private final DirtyRings rings;
    private final LongAdder lost = new LongAdder();

    DirtyMarker(DirtyLogCaps caps, DirtyRings rings) {
        this.caps = caps;
        this.rings = rings;
    }

    @Override
    public void markPageDirty(Memslot slot, long gfn) {
        if (slot == null || !slot.logsDirtyPages()) {
            return;
        }
        long rel = gfn - slot.baseGfn();
        if (caps.ringsEnabled()) {
            MmuVcpu vcpu = rings.runningVcpu();
            if (vcpu != null) {
                rings.push(vcpu, slot.slotWord(), rel);
                return;
            }
        }
        DirtyBitmap bitmap = slot.dirtyBitmap();
        if (bitmap != null) {
            bitmap.markDirty(rel);
        } else {
            lost.increment();
        }
    }

    /** Marks made with rings, no running vCPU and no bitmap: lost, as in the kernel. */
    long lostWithoutVcpu() {
        return lost.sum();
    }
}
