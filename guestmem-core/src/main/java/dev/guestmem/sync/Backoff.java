package dev.guestmem.sync;

import java.util.concurrent.locks.LockSupport;

/**
 * One wait for another thread's short step: a reader leaving its SRCU section, a vCPU leaving guest
 * mode. The other side usually finishes within microseconds on another core, so the waiter spins first;
 * after {@link #SPIN_NANOS} it yields its core on every call, in case the other side needs it; only after
 * {@link #YIELD_NANOS} does it park. Parking early costs dearly: a park sleeps tens of microseconds at
 * least (timer slack), many times the step waited for. Not thread-safe: one per wait.
 */
public final class Backoff {
    /** How long to spin before yielding. */
    static final long SPIN_NANOS = 20_000;
    /** How long to yield before parking. */
    static final long YIELD_NANOS = 2_000_000;
    private static final long PARK_NANOS = 20_000;
    /** Calls between two clock reads while spinning. */
    private static final int CLOCK_EVERY = 32;

    private long started;
    private long elapsed;
    private int calls;

    /** Waits a little; call it once per failed check of the condition waited for. */
    public void pause() {
        if (calls == 0) {
            started = System.nanoTime();
        } else if (elapsed >= SPIN_NANOS || calls % CLOCK_EVERY == 0) {
            elapsed = System.nanoTime() - started;
        }
        calls++;
        if (elapsed < SPIN_NANOS) {
            Thread.onSpinWait();
        } else if (elapsed < YIELD_NANOS) {
            Thread.yield();
        } else {
            LockSupport.parkNanos(PARK_NANOS);
        }
    }
}
