package dev.guestmem.mmu;

import static dev.guestmem.mmu.PageLevel.PG_2M;
import static dev.guestmem.mmu.PageLevel.PG_4K;

import dev.guestmem.host.HostFault;
import dev.guestmem.host.HostMemory;
import dev.guestmem.host.HostPage;
import dev.guestmem.memslot.KvmLimits;
import dev.guestmem.memslot.Memslot;

/**
 * The maximum mapping level of a fault ({@code kvm_mmu_hugepage_adjust}, mmu.md §2.3) and the GUP that
 * goes with it. A 2 MiB leaf needs: a slot that does not log dirty pages; the whole frame inside the
 * slot; gfn and hva congruent modulo 2 MiB; no write-tracked gfn in the frame ({@code disallow_lpage});
 * and a host range that could be one transparent huge page: inside one huge-advised ({@code MADV_HUGEPAGE})
 * area, so of one protection, with every page of it resolving; the leaf is host-writable only if every
 * page is. The host state is read without the MMU lock, which is safe because the fault
 * re-checks the invalidation sequence before installing.
 */
public final class HugePagePolicy {
    private static final long FRAME_PAGES = PageLevel.pages(PG_2M);

    private final HostMemory host;
    private final WriteTracking tracking;

    HugePagePolicy(HostMemory host, WriteTracking tracking) {
        this.host = host;
        this.tracking = tracking;
    }

    /** The level the slot and the tracked gfns allow for {@code gfn}, before looking at the host. */
    int staticMaxLevel(Memslot slot, long gfn) {
        if (slot.logsDirtyPages()) {
            return PG_4K;
        }
        long frame = PageLevel.round(gfn, PG_2M);
        if (Long.compareUnsigned(frame, slot.baseGfn()) < 0
                || Long.compareUnsigned(frame + FRAME_PAGES, slot.endGfn()) > 0) {
            return PG_4K; // a partial frame at the slot's head or tail
        }
        if ((((slot.userspaceAddr() >>> KvmLimits.PAGE_SHIFT) - slot.baseGfn()) & (FRAME_PAGES - 1)) != 0) {
            return PG_4K; // gfn and hva not congruent: disallowed for the whole slot
        }
        return tracking.disallowsHuge(frame) ? PG_4K : PG_2M;
    }

    /** Whether the host range behind the 2 MiB frame of {@code gfn} could be one transparent huge page. */
    boolean hostAllowsHuge(Memslot slot, long gfn) {
        long start = slot.gfnToHva(PageLevel.round(gfn, PG_2M));
        return host.mayMapHuge(start, start + FRAME_PAGES * KvmLimits.PAGE_SIZE);
    }

    /**
     * GUP for {@code f} (hva → host page, {@code __kvm_faultin_pfn}) and the mapping level: fills
     * {@code hva}, {@code pfn}, {@code hostWritable} and {@code goalLevel}.
     *
     * @throws HostFault if the faulting page itself is missing or forbids the access
     */
    void resolve(PageFault f) {
        Memslot slot = f.slot;
        long hva = slot.gfnToHva(f.gfn);
        HostPage page = host.resolvePage(hva, f.write);
        f.hva = hva;
        f.pfn = hva >>> KvmLimits.PAGE_SHIFT;
        f.hostWritable = !slot.isReadOnly() && page.writable();
        f.goalLevel = PG_4K;
        if (staticMaxLevel(slot, f.gfn) < PG_2M || !hostAllowsHuge(slot, f.gfn)) {
            return;
        }
        long frameHva = slot.gfnToHva(PageLevel.round(f.gfn, PG_2M));
        boolean allWritable = true;
        for (long i = 0; i < FRAME_PAGES; i++) {
            try {
                allWritable &= host.resolvePage(frameHva + i * KvmLimits.PAGE_SIZE, f.write).writable();
            } catch (HostFault fault) {
                return; // not uniformly accessible: stay at 4 KiB
            }
        }
        f.pfn = frameHva >>> KvmLimits.PAGE_SHIFT;
        f.hostWritable = !slot.isReadOnly() && allWritable;
        f.goalLevel = PG_2M;
    }
}
