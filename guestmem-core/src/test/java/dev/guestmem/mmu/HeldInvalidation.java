package dev.guestmem.mmu;

import dev.guestmem.host.InvalidationCause;
import dev.guestmem.host.InvalidationListener;
import java.util.concurrent.CountDownLatch;

/**
 * A host invalidation listener that holds the first invalidation reaching it between start and end until
 * the test releases it. Registered after a VM's notifier, it stops the invalidation once the MMU's
 * {@code invalidate_range_start} has returned and before its end runs.
 */
final class HeldInvalidation implements InvalidationListener {
    private final CountDownLatch inside = new CountDownLatch(1);
    private final CountDownLatch leave = new CountDownLatch(1);

    @Override
    public void invalidateRangeStart(long start, long end, InvalidationCause cause) {
        inside.countDown();
        Latches.await(leave);
    }

    @Override
    public void invalidateRangeEnd(long start, long end, InvalidationCause cause) {
    }

    /** Waits until an invalidation is held here. */
    void awaitInside() {
        Latches.await(inside);
    }

    /** Lets the held invalidation (and every later one) go on. */
    void release() {
        leave.countDown();
    }

}
