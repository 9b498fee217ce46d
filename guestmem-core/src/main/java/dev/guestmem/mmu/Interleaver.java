package dev.guestmem.mmu;

/**
 * Named schedule points in the MMU's slow paths, for deterministic race tests (mmu.md §8.2
 * {@code Interleaver}): a test implementation can block a thread at a point until another thread has
 * reached its own, or ask a zap loop to yield. {@link #NONE} does nothing; the guest-access fast path
 * (a TLB hit) has no schedule point at all.
 *
 * <p>Points: {@code fault.afterSeqSnapshot}, {@code fault.afterGup} (pfn resolved), {@code
 * fault.beforeLock} (the early unsafe checks passed, the MMU lock not yet taken), {@code
 * fault.beforeInstall} (lock held, about to CAS the leaf), {@code zap.yielded} (a zap
 * loop released the MMU lock mid-range; {@code forceYield("zap", gfn)} asks for such a yield),
 * {@code frozen.afterFreeze} (an SPTE is FROZEN, its flush not yet done), {@code memslot.invalidated}
 * (a DELETE or MOVE published the slot's INVALID copy and has not zapped it yet).
 */
public interface Interleaver {
    /** No schedule points, no forced yields. */
    Interleaver NONE = new Interleaver() {
    };

    /** The current thread reached {@code point}. */
    default void point(String point) {
    }

    /**
     * Whether a range walk at {@code point}, about to visit the entry starting at {@code gfn}, should yield
     * the MMU lock now even if nobody waits for it.
     */
    default boolean forceYield(String point, long gfn) {
        return false;
    }
}
