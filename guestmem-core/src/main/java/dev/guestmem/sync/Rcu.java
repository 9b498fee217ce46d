package dev.guestmem.sync;

import java.util.ArrayList;
import java.util.List;

/**
 * Read-copy-update for memory that lock-free readers traverse (the TDP page tables, mmu.md §6.4):
 * read-side sections, and callbacks deferred until every section that could have seen the retired
 * object has ended ({@code call_rcu}).
 *
 * <p>Callbacks do not run on a background thread: {@link #reclaim()} runs the ones queued before it
 * was called, after a grace period, once {@link #BATCH} of them are waiting, and {@link #barrier()} runs
 * them whatever their number. Writers call these at points where they hold no lock a reader could wait
 * for and are not inside a read section themselves, which keeps the order of frees deterministic for
 * tests. Batching is what {@code call_rcu} gives the kernel: a writer that retires a few objects does
 * not wait for a grace period each time (a zap would otherwise wait for every vCPU's fault in progress).
 * Read sections are those of an {@link Srcu}, whose grace period is what {@link #synchronize()} waits for.
 */
public final class Rcu {
    /** Callbacks that make {@link #reclaim()} pay for a grace period: at most this many wait unrun. */
    public static final int BATCH = 64;

    private final Srcu readers = new Srcu();
    /** Callbacks not yet run, oldest first; guarded by {@code this} (a zap adds a few at a time). */
    private List<Runnable> pending = new ArrayList<>();
    /** {@code pending.size()}, readable without the lock (every fault asks {@link #reclaim()}). */
    private volatile int queued;

    /** Enters a read-side section; pass the token to {@link #readUnlock(int)}. */
    public int readLock() {
        return readers.readLock();
    }

    /** Leaves the section {@link #readLock()} entered. */
    public void readUnlock(int token) {
        readers.readUnlock(token);
    }

    /** Queues {@code callback} to run after a grace period that starts after this call. */
    public synchronized void callRcu(Runnable callback) {
        pending.add(callback);
        queued = pending.size();
    }

    /** Whether callbacks are waiting for {@link #reclaim()}. */
    public boolean hasPending() {
        return queued != 0;
    }

    /** Waits until every read-side section that began before this call has ended. */
    public void synchronize() {
        readers.synchronize();
    }

    /**
     * Once {@link #BATCH} callbacks are waiting, runs every callback queued before this call after a grace
     * period; returns how many ran. Must not be called inside a read-side section (it would wait for
     * itself).
     */
    public int reclaim() {
        return queued < BATCH ? 0 : barrier();
    }

    /**
     * Runs every callback queued before this call, after a grace period, however few ({@code rcu_barrier});
     * returns how many ran. Must not be called inside a read-side section.
     */
    public int barrier() {
        List<Runnable> batch;
        synchronized (this) {
            if (pending.isEmpty()) {
                return 0;
            }
            batch = pending;
            pending = new ArrayList<>();
            queued = 0;
        }
        // Everything in the batch was retired before this grace period began.
        readers.synchronize();
        batch.forEach(Runnable::run);
        return batch.size();
    }
}
