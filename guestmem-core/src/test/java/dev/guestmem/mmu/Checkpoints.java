package dev.guestmem.mmu;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An {@link Interleaver} for deterministic race tests: a point can be armed so that the first thread to
 * reach it (optionally only a given thread) stops there until the test releases it, and a zap can be
 * told to yield once when it reaches a given gfn.
 */
final class Checkpoints implements Interleaver {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    /** One armed point: holds the first matching thread that reaches it. */
    static final class Gate {
        private final Thread only;
        private final AtomicBoolean taken = new AtomicBoolean();
        private final CountDownLatch arrived = new CountDownLatch(1);
        private final CountDownLatch released = new CountDownLatch(1);

        private Gate(Thread only) {
            this.only = only;
        }

        private void reach() {
            if ((only == null || only == Thread.currentThread()) && taken.compareAndSet(false, true)) {
                arrived.countDown();
                try {
                    if (!released.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                        throw new IllegalStateException("checkpoint never released");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
        }

        /** Waits until a thread stopped at the point. */
        void awaitArrival() throws InterruptedException {
            if (!arrived.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("no thread reached the checkpoint");
            }
        }

        /** Lets the stopped thread (or the next to come) go on. */
        void release() {
            released.countDown();
        }
    }

    private final Map<String, Gate> gates = new ConcurrentHashMap<>();
    private volatile long yieldGfn = -1;

    /** The first thread to reach {@code point} will stop there. */
    Gate arm(String point) {
        return arm(point, null);
    }

    /** The first time {@code only} reaches {@code point} it will stop there. */
    Gate arm(String point, Thread only) {
        Gate gate = new Gate(only);
        gates.put(point, gate);
        return gate;
    }

    /** The next zap walk reaching the entry at {@code gfn} yields the MMU lock there (once). */
    void yieldZapAt(long gfn) {
        yieldGfn = gfn;
    }

    @Override
    public void point(String point) {
        Gate gate = gates.get(point);
        if (gate != null) {
            gate.reach();
        }
    }

    @Override
    public boolean forceYield(String point, long gfn) {
        if (gfn == yieldGfn && "zap".equals(point)) {
            yieldGfn = -1;
            return true;
        }
        return false;
    }
}
