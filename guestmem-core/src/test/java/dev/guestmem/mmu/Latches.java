package dev.guestmem.mmu;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** Waiting on a latch in a race test: a bounded wait that fails the test instead of hanging it. */
final class Latches {
    private static final long TIMEOUT_SECONDS = 20;

    private Latches() {
    }

    /** Waits for {@code latch}; throws if it does not open within the timeout. */
    static void await(CountDownLatch latch) {
        try {
            if (!latch.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                throw new IllegalStateException("timed out waiting for another thread");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
