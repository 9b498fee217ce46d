package dev.guestmem.dirty;

import dev.guestmem.memslot.Memslot;
import dev.guestmem.memslot.MemslotFlags;
import dev.guestmem.mmu.HugePagePolicy;
import dev.guestmem.mmu.PageLevel;
import dev.guestmem.mmu.TdpMmu;
import dev.guestmem.vm.MemslotChange;
import dev.guestmem.vm.MemslotUpdateHooks;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The dirty-logging part of a memslot commit, around the MMU's own hooks ({@code delegate}):
 * <ol>
 *   <li>{@code nr_memslots_dirty_logging} follows every change of {@code LOG_DIRTY_PAGES} (spec §2.7
 *       step 2);</li>
 *   <li>x86 {@code kvm_mmu_slot_apply_flags} (mmu.md §3.5), for FLAGS_ONLY toggles of a writable slot
 *       only: CREATE has no mappings yet, DELETE and MOVE zapped them in the INVALID step.
 *       <b>On</b>: unless manual protection with INITIALLY_SET is on (then every bit starts set and
 *       protection happens per CLEAR), write-protect every leaf of the slot, huge ones included (kind B,
 *       W only: a huge leaf becomes read-only so the next write is split by the slow path into a 4 KiB
 *       mapping), then flush unconditionally, after the MMU lock is dropped but before the ioctl returns
 *       (a stale writable TLB entry could remain from before even where no SPTE changed, mmu.md §7.2.6).
 *       There is no eager split: the reference kernel's {@code eager_page_split} only changes when the
 *       split happens. <b>Off</b>: huge mappings may come back ({@code kvm_mmu_recover_huge_pages},
 *       mmu.md §5.4).</li>
 * </ol>
 * Runs with the slots lock held, which is what serializes this flush with those of GET and CLEAR (INV-B).
 */
final class DirtyLoggingHooks implements MemslotUpdateHooks {
    private final MemslotUpdateHooks delegate;
    private final TdpMmu mmu;
    private final HugePagePolicy hugePages;
    private final DirtyLogCaps caps;
    private final AtomicInteger loggingSlots = new AtomicInteger();

    DirtyLoggingHooks(MemslotUpdateHooks delegate, TdpMmu mmu, HugePagePolicy hugePages, DirtyLogCaps caps) {
        this.delegate = delegate;
        this.mmu = mmu;
        this.hugePages = hugePages;
        this.caps = caps;
    }

    @Override
    public void invalidated(Memslot old) {
        delegate.invalidated(old);
    }

    @Override
    public int prepare(Memslot old, Memslot next, MemslotChange change) {
        return delegate.prepare(old, next, change);
    }

    @Override
    public void commit(Memslot old, Memslot next, MemslotChange change) {
        boolean wasLogging = old != null && old.logsDirtyPages();
        boolean logging = next != null && next.logsDirtyPages();
        if (wasLogging != logging) {
            loggingSlots.addAndGet(logging ? 1 : -1);
        }
        delegate.commit(old, next, change);
        if (change != MemslotChange.FLAGS_ONLY || wasLogging == logging
                || (next.flags() & MemslotFlags.READONLY) != 0) {
            return;
        }
        if (logging) {
            startLogging(next);
        } else {
            mmu.recoverHugePages(next, hugePages);
        }
    }

    private void startLogging(Memslot slot) {
        if (caps.manualProtect() && caps.initiallySet()) {
            return;
        }
        mmu.writeProtectSlot(slot, PageLevel.PG_4K);
        mmu.flushRemoteTlbs();
    }

    /** {@code kvm->nr_memslots_dirty_logging}. */
    int loggingSlots() {
        return loggingSlots.get();
    }
}
