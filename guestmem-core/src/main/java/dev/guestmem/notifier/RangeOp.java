package dev.guestmem.notifier;

/**
 * {@code struct kvm_mmu_notifier_range} plus the lock flag of the hva-range operator: what a
 * {@link RangeWalker} does over {@code [start, end)} (hvas or gfns, depending on the walk).
 *
 * @param start      first address (hva or gfn)
 * @param end        address after the last; must be above {@code start}
 * @param handler    per-slot work, or null for none (then only {@code onLock} runs)
 * @param onLock     run once, right after the MMU lock is taken for the first intersecting slot
 * @param flushOnRet flush remote TLBs before unlocking if any handler returned "true"
 * @param mayBlock   passed to the handlers
 * @param takeLock   whether to take the MMU lock (for write); false runs under SRCU only
 * @param arg        passed to the handlers
 */
public record RangeOp(long start, long end, GfnRangeHandler handler, Runnable onLock, boolean flushOnRet,
        boolean mayBlock, boolean takeLock, long arg) {
    /** The {@code on_lock} that does nothing. */
    public static final Runnable NO_ON_LOCK = () -> {
    };

    /** A walk that runs {@code handler} under the MMU lock, with no on_lock hook. */
    public static RangeOp locked(long start, long end, GfnRangeHandler handler, boolean flushOnRet) {
        return new RangeOp(start, end, handler, NO_ON_LOCK, flushOnRet, true, true, 0);
    }
}
