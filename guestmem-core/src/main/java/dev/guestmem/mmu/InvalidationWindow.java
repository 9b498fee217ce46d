package dev.guestmem.mmu;

/**
 * {@code mmu_invalidate_seq}, {@code mmu_invalidate_in_progress} and the accumulated gfn range
 * (kvm-memory-spec §3.4, §3.5): how a page fault learns that the host page it resolved may have been
 * invalidated meanwhile. {@link #begin}, {@link #addRange} and {@link #end} run with the MMU lock held
 * for write; {@link #retryGfn} with it held for read; {@link #retryGfnUnsafe} without it.
 */
public final class InvalidationWindow {
    /** {@code INVALID_GPA}: the sentinel of an empty range. */
    static final long NO_RANGE = -1L;

    private volatile long seq;
    private volatile long inProgress;
    private volatile long rangeStart = NO_RANGE;
    private volatile long rangeEnd = NO_RANGE;
    private final MmuInvariants warnings;

    InvalidationWindow(MmuInvariants warnings) {
        this.warnings = warnings;
    }

    /** The sequence number a fault snapshots before resolving its page. */
    public long seq() {
        return seq;
    }

    /** Invalidations between begin and end. */
    public long inProgress() {
        return inProgress;
    }

    /** {@code kvm_mmu_invalidate_begin}: the first of overlapping invalidations resets the range. */
    void begin() {
        long n = inProgress + 1;
        inProgress = n;
        if (n == 1) {
            rangeStart = NO_RANGE;
            rangeEnd = NO_RANGE;
        }
    }

    /**
     * {@code kvm_mmu_invalidate_range_add}: widens the window to cover {@code [start, end)}; it stays
     * widened until the next begin from zero, so concurrent invalidations accumulate one range.
     */
    void addRange(long start, long end) {
        if (inProgress == 0) {
            warnings.record("invalidate_range_add outside begin/end");
        }
        if (rangeStart == NO_RANGE) {
            rangeStart = start;
            rangeEnd = end;
        } else {
            rangeStart = Math.min(rangeStart, start);
            rangeEnd = Math.max(rangeEnd, end);
        }
    }

    /** {@code kvm_mmu_invalidate_end}: bump the sequence first, then leave; the order is what faults rely on. */
    void end() {
        seq = seq + 1;
        long n = inProgress - 1;
        if (n < 0) {
            warnings.record("mmu_invalidate_in_progress went negative");
            n = 0;
        }
        if (rangeStart == NO_RANGE) {
            warnings.record("invalidate_end without any range added");
        }
        inProgress = n;
    }

    /**
     * {@code mmu_invalidate_retry_gfn} (MMU lock held): a fault that snapshotted {@code mmuSeq} must
     * retry if an in-flight invalidation covers {@code gfn}, or if any invalidation ended since.
     */
    public boolean retryGfn(long mmuSeq, long gfn) {
        if (inProgress != 0) {
            long start = rangeStart;
            if (start == NO_RANGE) {
                warnings.record("invalidation in progress without a range");
                return true;
            }
            if (Long.compareUnsigned(gfn, start) >= 0 && Long.compareUnsigned(gfn, rangeEnd) < 0) {
                return true;
            }
        }
        return seq != mmuSeq;
    }

    /**
     * {@code mmu_invalidate_retry_gfn_unsafe}: the same test without the lock, for an early bail-out
     * only (it may err either way; the locked check decides).
     */
    public boolean retryGfnUnsafe(long mmuSeq, long gfn) {
        if (inProgress != 0) {
            long start = rangeStart;
            long end = rangeEnd;
            // The sentinel range (all ones) contains no gfn, as in the kernel.
            if (Long.compareUnsigned(gfn, start) >= 0 && Long.compareUnsigned(gfn, end) < 0) {
                return true;
            }
        }
        return seq != mmuSeq;
    }
}
