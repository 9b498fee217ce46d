package dev.guestmem.sync;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Sleepable read-copy-update, the grace-period primitive behind memslot publication.
 *
 * <p>Readers never block: {@link #readLock()} bumps a per-thread-striped counter of the current
 * index and {@link #readUnlock(int)} drops it again. {@link #synchronize()} returns only after every
 * reader section that had started before the call has ended, so a writer that first publishes a new
 * pointer and then synchronizes may edit or free whatever only the old pointer reached.
 *
 * <p>Two indexes keep new readers from starving a writer: {@link #synchronize()} flips the index readers
 * enter under and waits for the old one to drain, so it waits for the sections that had begun, not for
 * the ones that begin while it waits (as the kernel's SRCU scans an index once per grace period). A
 * reader counts itself under the index it read, which may be older than the one it increments after a
 * flip; such a late reader is counted under the other index, which is why the writer drains that one too,
 * before it flips. All counter updates are sequentially consistent, so a reader whose increment comes
 * after the writer's check of its index reads the pointer published before that check.
 */
public final class Srcu {
    /** Longs between two stripes, so counters touched by different threads live on different cache lines. */
    private static final int PAD = 16;

    private final int stripes;
    private final AtomicLongArray counters;
    private volatile int index;
    private final ReentrantLock writerLock = new ReentrantLock();

    /** A primitive sized for this machine's processor count. */
    public Srcu() {
        this(Integer.highestOneBit(Math.max(1, Runtime.getRuntime().availableProcessors()) * 4 - 1) << 1);
    }

    /** A primitive with {@code stripes} counters per index ({@code stripes} must be a power of two). */
    public Srcu(int stripes) {
        if (Integer.bitCount(stripes) != 1) {
            throw new IllegalArgumentException("stripes must be a power of two: " + stripes);
        }
        this.stripes = stripes;
        this.counters = new AtomicLongArray(2 * stripes * PAD);
    }

    /**
     * Enters a read-side section. Returns the token to pass to {@link #readUnlock(int)} on the same
     * or another thread.
     */
    public int readLock() {
        int stripe = (int) Thread.currentThread().threadId() & (stripes - 1);
        int token = (index << 30) | stripe;
        counters.getAndIncrement(slot(token));
        return token;
    }

    /** Leaves the read-side section entered by {@link #readLock()}. */
    public void readUnlock(int token) {
        counters.getAndDecrement(slot(token));
    }

    /** Waits until every read-side section that began before this call has ended. */
    public void synchronize() {
        writerLock.lock();
        try {
            int current = index;
            // A reader counted under the other index read it before the previous flip: it may have read
            // the pointer this grace period replaces. Usually there is none, and this costs one scan.
            awaitDrained(current ^ 1);
            index = current ^ 1;
            awaitDrained(current);
        } finally {
            writerLock.unlock();
        }
    }

    private int slot(int token) {
        return ((token >>> 30) * stripes + (token & (stripes - 1))) * PAD;
    }

    private void awaitDrained(int idx) {
        for (int s = 0; s < stripes; s++) {
            int at = (idx * stripes + s) * PAD;
            Backoff backoff = new Backoff();
            while (counters.get(at) != 0) {
                backoff.pause();
            }
        }
    }
}
