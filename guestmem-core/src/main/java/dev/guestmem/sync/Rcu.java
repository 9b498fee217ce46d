package dev.guestmem.sync;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

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
    private final ConcurrentLinkedQueue<Runnable> pending = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();

    /** Enters a read-side section; pass the token to {@link #readUnlock(int)}. */
    public int readLock() {
        return readers.readLock();
    }

    /** Leaves the section {@link #readLock()} entered. */
    public void readUnlock(int token) {
        readers.readUnlock(token);
    }

    /** Queues {@code callback} to run after a grace period that starts after this call. */
    public void callRcu(Runnable callback) {
        pending.add(callback);
        queued.incrementAndGet();
    }

    /** Whether callbacks are waiting for {@link #reclaim()}. */
    public boolean hasPending() {
        return !pending.isEmpty();
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
        return queued.get() < BATCH ? 0 : barrier();
    }

    /**
     * Runs every callback queued before this call, after a grace period, however few ({@code rcu_barrier});
     * returns how many ran. Must not be called inside a read-side section.
     */
    public int barrier() {
        if (pending.isEmpty()) {
            return 0;
        }
        List<Runnable> batch = new ArrayList<>();
        for (Runnable r; (r = pending.poll()) != null; ) {
            batch.add(r);
        }
        queued.addAndGet(-batch.size());
        // Everything in the batch was retired before this grace period began.
        readers.synchronize();
        batch.forEach(Runnable::run);
        return batch.size();
    }
}
