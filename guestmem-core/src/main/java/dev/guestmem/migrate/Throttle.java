package dev.guestmem.migrate;

import java.util.concurrent.locks.LockSupport;

/** Caps a copy at a bandwidth: after each chunk, sleeps until the bytes sent so far are due. */
final class Throttle {
    private final long bytesPerSecond;
    private final long start = System.nanoTime();
    private long sent;

    /** A throttle at {@code bytesPerSecond} (0: no cap). */
    Throttle(long bytesPerSecond) {
        this.bytesPerSecond = bytesPerSecond;
    }

    void sent(long bytes) {
        if (bytesPerSecond == 0) {
            return;
        }
        sent += bytes;
        long due = start + (long) (sent * 1e9 / bytesPerSecond);
        long ahead = due - System.nanoTime();
        if (ahead > 0) {
            LockSupport.parkNanos(ahead);
        }
    }
}
