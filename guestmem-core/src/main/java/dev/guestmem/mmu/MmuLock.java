package dev.guestmem.mmu;

import dev.guestmem.sync.Backoff;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * {@code kvm->mmu_lock}, an rwlock on x86 (mmu.md §6.1): faults and slot-wide dirty-log protection take
 * it for read and change SPTEs only with CAS; notifier zaps, write tracking and masked dirty-log
 * protection take it for write.
 *
 * <p>The kernel's rwlock spins, because its holders run for microseconds. A waiter here spins too, for up
 * to {@link Backoff#SPIN_NANOS}, before it queues and parks: a parked thread takes tens of microseconds to wake,
 * many times the section it waited for, and a fault parked behind a zap would hold its SRCU read section
 * (and so the next memslot update) that long. Taking the lock only while no thread is queued, first try
 * included, keeps a parked writer from being starved by readers that barge in with {@code tryLock}.
 */
public final class MmuLock {
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();

    public void readLock() {
        acquire(lock.readLock());
    }

    public void readUnlock() {
        lock.readLock().unlock();
    }

    public void writeLock() {
        acquire(lock.writeLock());
    }

    public void writeUnlock() {
        lock.writeLock().unlock();
    }

    private void acquire(Lock which) {
        if (tryUnqueued(which)) {
            return;
        }
        Backoff spin = new Backoff();
        while (spin.spin()) {
            if (tryUnqueued(which)) {
                return;
            }
        }
        which.lock();
    }

    /** Takes {@code which} now if it is free and nobody queues for the lock (as its own {@code lock} would). */
    private boolean tryUnqueued(Lock which) {
        return !lock.hasQueuedThreads() && which.tryLock();
    }

    /** {@code rwlock_needbreak}: someone waits for the lock, so a long walk should yield it. */
    boolean contended() {
        return lock.hasQueuedThreads();
    }

    /** Whether the current thread holds the lock for write. */
    public boolean isWriteLockedByCurrentThread() {
        return lock.isWriteLockedByCurrentThread();
    }
}
