package dev.guestmem.sync;

import java.util.concurrent.locks.LockSupport;

/**
 * One wait for another thread's short step: a reader leaving its SRCU section, a vCPU leaving guest
 * mode, an invalidation ending. The other side usually finishes within microseconds on another core, so
 * the waiter spins first; after {@link #SPIN_NANOS} it parks for short periods.
 *
 * <p>It never yields. When the host is oversubscribed (other processes busy), the thread waited for is
 * often queued behind one of them on the other core, and a yielding waiter keeps its own core busy, so
 * the scheduler has no reason to move that thread over: every wait then lasts a whole timeslice of the
 * other process (milliseconds; a MOVE took 6 to 9 ms instead of 10 to 60 us under one busy core). A parked
 * waiter leaves its core idle, and the idle core pulls the waited-for thread over at once.
 * Not thread-safe: one per wait.
 */
public final class Backoff {
    /** How long to spin before parking. */
    public static final long SPIN_NANOS = 20_000;
    private static final long PARK_NANOS = 20_000;
    /** Calls between two clock reads while spinning. */
    private static final int CLOCK_EVERY = 32;

    private long started;
    private boolean spinning = true;
    private int calls;

    /** Waits a little; call it once per failed check of the condition waited for. */
    public void pause() {
        if (!spin()) {
            LockSupport.parkNanos(PARK_NANOS);
        }
    }

    /**
     * The spin phase alone, for a waiter that blocks some other way afterwards: spins once and returns
     * true, or returns false once {@link #SPIN_NANOS} have passed since the first call.
     */
    public boolean spin() {
        if (calls == 0) {
            started = System.nanoTime();
        } else if (spinning && calls % CLOCK_EVERY == 0) {
            spinning = System.nanoTime() - started < SPIN_NANOS;
        }
        calls++;
        if (spinning) {
            Thread.onSpinWait();
        }
        return spinning;
    }
}
