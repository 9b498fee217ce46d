package dev.guestmem.mmu;

/**
 * Test-only fault injection: each constant removes one protective step of the MMU, so a race test can
 * show that it catches the bug the step prevents (mmu.md §8.6). Never enable one outside tests.
 */
public enum MmuMutation {
    /** Litmus 1: kind-A write protection decides its flush from W instead of MMU-writable (the 2012 bug). */
    FLUSH_DECIDED_FROM_W,
    /** Litmus 2: the lockless fast path also makes a huge SPTE of a dirty-logging slot writable. */
    FAST_PATH_FIXES_HUGE,
    /** Litmus 5: a zap loop yields the MMU lock without first doing its pending TLB flush. */
    NO_FLUSH_BEFORE_YIELD,
    /** Litmus 7: a fault treats a FROZEN SPTE like an empty one and overwrites it. */
    IGNORE_FROZEN,
    /** Litmus 8: a fault skips the locked {@code mmu_invalidate_retry_gfn} re-check. */
    NO_INVALIDATION_RECHECK
}
