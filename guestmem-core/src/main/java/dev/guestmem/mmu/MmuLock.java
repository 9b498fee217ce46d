package dev.guestmem.mmu;

import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * {@code kvm->mmu_lock}, an rwlock on x86 (mmu.md §6.1): faults and slot-wide dirty-log protection take
 * it for read and change SPTEs only with CAS; notifier zaps, write tracking and masked dirty-log
 * protection take it for write.
 */
public final class MmuLock {
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();

    public void readLock() {
        lock.readLock().lock();
    }

    public void readUnlock() {
        lock.readLock().unlock();
    }

    public void writeLock() {
        lock.writeLock().lock();
    }

    public void writeUnlock() {
        lock.writeLock().unlock();
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
