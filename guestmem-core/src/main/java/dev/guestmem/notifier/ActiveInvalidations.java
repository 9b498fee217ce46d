package dev.guestmem.notifier;

import dev.guestmem.memslot.PublishBarrier;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * {@code mn_active_invalidate_count} with {@code mn_invalidate_lock} and the memslot updater's rcuwait
 * (kvm-memory-spec §2.5 step 2, §3.3): an MMU-notifier invalidation counts itself in before it looks at
 * the memslots and out after its end, and a memslot publication waits until the count is zero and
 * publishes under the same lock, so no invalidation sees different slots at start and end — which keeps
 * {@code mmu_invalidate_in_progress} balanced.
 */
public final class ActiveInvalidations implements PublishBarrier {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition drained = lock.newCondition();
    private long count;
    private long unbalanced;

    /** {@code invalidate_range_start}'s increment. */
    void begin() {
        lock.lock();
        try {
            count++;
        } finally {
            lock.unlock();
        }
    }

    /** {@code invalidate_range_end}'s decrement; wakes a waiting memslot update at zero. */
    void end() {
        lock.lock();
        try {
            if (count == 0) {
                unbalanced++; // WARN_ON_ONCE in the kernel
                return;
            }
            if (--count == 0) {
                drained.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Invalidations between start and end right now. */
    public long inFlight() {
        lock.lock();
        try {
            return count;
        } finally {
            lock.unlock();
        }
    }

    /** Ends without a matching begin (must stay 0). */
    public long unbalanced() {
        lock.lock();
        try {
            return unbalanced;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void publish(Runnable publish) {
        lock.lock();
        try {
            while (count != 0) {
                drained.awaitUninterruptibly();
            }
            publish.run();
        } finally {
            lock.unlock();
        }
    }
}
