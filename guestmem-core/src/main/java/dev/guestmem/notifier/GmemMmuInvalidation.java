package dev.guestmem.notifier;

import dev.guestmem.gmem.GmemInvalidationTarget;
import dev.guestmem.gmem.ZapFilter;
import dev.guestmem.memslot.Memslot;
import dev.guestmem.mmu.TdpMmu;

/**
 * guest_memfd and memory-attribute invalidations (spec §5.5, §5.7) on the TDP MMU, shaped like
 * {@code kvm_gmem_invalidate_begin/end}: {@link #begin} takes the MMU lock for write and opens the
 * window; the zaps run under it; {@link #zapsDone} flushes if any zap dropped a translation and releases
 * the lock, so the caller may truncate or convert the memory; {@link #end} retakes the lock to close the
 * window. The filter is not narrowed: x86 without mirror roots zaps every mapping of the range
 * ({@code kvm_gfn_range_filter_to_root_types}).
 */
public final class GmemMmuInvalidation implements GmemInvalidationTarget {
    private final TdpMmu mmu;
    /** Guarded by the MMU write lock: the window's zaps owe a flush. */
    private boolean flush;
    /** Guarded by the MMU write lock: begin took it and zapsDone has not released it yet. */
    private boolean holding;

    public GmemMmuInvalidation(TdpMmu mmu) {
        this.mmu = mmu;
    }

    @Override
    public void begin() {
        mmu.lock().writeLock();
        holding = true;
        flush = false;
        mmu.invalidateBegin();
    }

    @Override
    public void zap(Memslot slot, long startGfn, long endGfn, ZapFilter filter) {
        flush |= mmu.unmapGfnRange(startGfn, endGfn, true);
    }

    @Override
    public void zapsDone() {
        release();
        mmu.reclaim();
    }

    @Override
    public void end() {
        if (holding && mmu.lock().isWriteLockedByCurrentThread()) {
            release(); // a zap threw before zapsDone: still flush and let go
        }
        mmu.lock().writeLock();
        try {
            mmu.invalidateEnd();
        } finally {
            mmu.lock().writeUnlock();
        }
    }

    private void release() {
        try {
            if (flush) {
                mmu.flushRemoteTlbs();
            }
        } finally {
            flush = false;
            holding = false;
            mmu.lock().writeUnlock();
        }
    }
}
