package dev.guestmem.notifier;

import dev.guestmem.host.InvalidationCause;
import dev.guestmem.host.InvalidationListener;
import dev.guestmem.mmu.TdpMmu;

/**
 * A VM's MMU notifier (kvm-memory-spec §3.3/§3.4): subscribed to the host address space, it keeps the
 * SPTEs coherent with {@code munmap}, {@code madvise(MADV_DONTNEED)} and {@code mprotect}, and offers the
 * aging callbacks.
 *
 * <p>{@code invalidate_range_start}: count the invalidation in ({@link ActiveInvalidations}), then walk
 * every slot of every address space whose hvas intersect the range with {@code on_lock =
 * kvm_mmu_invalidate_begin} and the handler {@code kvm_mmu_unmap_gfn_range} (widen the window, zap),
 * flushing before the MMU lock is released — so when it returns no SPTE and no usable TLB entry maps the
 * range, and no fault can install it until the end. {@code invalidate_range_end}: the same walk with
 * {@code on_lock = kvm_mmu_invalidate_end} and no handler, then count out.
 */
public final class MmuNotifier implements InvalidationListener {
    private final TdpMmu mmu;
    private final RangeWalker walker;
    private final ActiveInvalidations active;

    public MmuNotifier(TdpMmu mmu, RangeWalker walker, ActiveInvalidations active) {
        this.mmu = mmu;
        this.walker = walker;
        this.active = active;
    }

    @Override
    public void invalidateRangeStart(long start, long end, InvalidationCause cause) {
        active.begin();
        mmu.counters().countInvalidation();
        walker.walkHva(new RangeOp(start, end,
                range -> mmu.unmapGfnRange(range.start(), range.end(), range.mayBlock()) ? 1 : 0,
                mmu::invalidateBegin, true, true, true, 0));
    }

    @Override
    public void invalidateRangeEnd(long start, long end, InvalidationCause cause) {
        walker.walkHva(new RangeOp(start, end, null, mmu::invalidateEnd, false, true, true, 0));
        active.end();
    }

    /**
     * Replays the invalidation the kernel's copy-on-write break of the page at {@code hva} fires (see
     * {@link dev.guestmem.mmu.CopyOnWriteListener}), if any slot maps a page of the range: start and end on
     * it, as {@code wp_page_copy} (or the huge zero page's copy) does around its page-table change. Only this
     * VM's notifier hears it.
     */
    public void copyOnWriteBroken(long start, long end) {
        int mapped = walker.doHvaRangeOp(start, end, range -> mmu.mapsAny(range.start(), range.end()) ? -1 : 0,
                false);
        if (mapped != 0) {
            invalidateRangeStart(start, end, InvalidationCause.COPY_ON_WRITE);
            invalidateRangeEnd(start, end, InvalidationCause.COPY_ON_WRITE);
        }
    }

    /**
     * {@code clear_flush_young}: clears Accessed on every leaf mapping {@code [start, end)}; returns whether
     * any was young. No flush: x86 elides it ({@code CONFIG_KVM_ELIDE_TLB_FLUSH_IF_YOUNG}, ≥ 6.13).
     */
    public boolean clearFlushYoung(long start, long end) {
        return age(start, end, false);
    }

    /** {@code clear_young}: like {@link #clearFlushYoung}, never flushing. */
    public boolean clearYoung(long start, long end) {
        return age(start, end, false);
    }

    /** {@code test_young}: whether the page at {@code hva} was accessed, on {@code [hva, hva + 1)}. */
    public boolean testYoung(long hva) {
        return age(hva, hva + 1, true);
    }

    private boolean age(long start, long end, boolean testOnly) {
        return walker.walkHva(RangeOp.locked(start, end,
                range -> mmu.ageGfnRange(range.start(), range.end(), testOnly) ? 1 : 0, false)).ret();
    }
}
