package dev.guestmem.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** {@link MmuLock}: readers share, a writer excludes everyone, and spinning readers cannot starve a writer. */
class MmuLockTest {
    private final MmuLock lock = new MmuLock();

    @Test
    void aWriterExcludesReadersUntilItUnlocks() throws Exception {
        lock.writeLock();
        assertTrue(lock.isWriteLockedByCurrentThread());
        AtomicBoolean read = new AtomicBoolean();
        Thread reader = Thread.ofPlatform().start(() -> {
            lock.readLock();
            read.set(true);
            lock.readUnlock();
        });
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!lock.contended() && System.nanoTime() < deadline) {
            Thread.sleep(1); // the reader spins first, then queues
        }
        assertTrue(lock.contended(), "the reader queued behind the writer");
        assertFalse(read.get());
        lock.writeUnlock();
        reader.join(10_000);
        assertTrue(read.get());
        assertFalse(lock.contended());
    }

    @Test
    void readersShareTheLock() throws Exception {
        lock.readLock();
        CountDownLatch second = new CountDownLatch(1);
        Thread reader = Thread.ofPlatform().start(() -> {
            lock.readLock();
            second.countDown();
            lock.readUnlock();
        });
        assertTrue(second.await(10, TimeUnit.SECONDS));
        lock.readUnlock();
        reader.join(10_000);
    }

    @Test
    void overlappingReadersDoNotStarveAWriter() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger sections = new AtomicInteger();
        List<Thread> readers = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            readers.add(Thread.ofPlatform().start(() -> {
                while (!stop.get()) {
                    lock.readLock();
                    sections.incrementAndGet();
                    Thread.onSpinWait(); // the two readers' sections overlap: the lock is never free
                    lock.readUnlock();
                }
            }));
        }
        while (sections.get() < 1000) {
            Thread.onSpinWait();
        }
        AtomicBoolean wrote = new AtomicBoolean();
        Thread writer = Thread.ofPlatform().start(() -> {
            lock.writeLock();
            wrote.set(true);
            lock.writeUnlock();
        });
        writer.join(20_000);
        stop.set(true);
        for (Thread r : readers) {
            r.join(10_000);
        }
        assertTrue(wrote.get(), "the writer got the lock while readers kept coming");
        assertEquals(false, writer.isAlive());
    }
}
