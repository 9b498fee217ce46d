package dev.guestmem.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** {@link Srcu}: a grace period waits for the sections that had begun, and only for those. */
class SrcuTest {
    private final Srcu srcu = new Srcu();

    private HeldReader reader() throws InterruptedException {
        return new HeldReader(srcu::readLock, srcu::readUnlock);
    }

    private Thread synchronizeInBackground() {
        return Thread.ofPlatform().start(srcu::synchronize);
    }

    /** Waits until {@code writer} has stopped spinning and parks: it is waiting for a reader to drain. */
    private static void awaitParked(Thread writer) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (writer.getState() != Thread.State.TIMED_WAITING && writer.isAlive()) {
            assertTrue(System.nanoTime() < deadline, "the writer neither parked nor finished");
            Thread.sleep(1);
        }
    }

    @Test
    void aGracePeriodWaitsForEveryReaderThatHadBegun() throws Exception {
        HeldReader first = reader();
        HeldReader second = reader();
        Thread writer = synchronizeInBackground();
        awaitParked(writer);
        first.leave();
        writer.join(50);
        assertTrue(writer.isAlive(), "returned while a reader was still inside");
        second.leave();
        writer.join(10_000);
        assertFalse(writer.isAlive());
    }

    @Test
    void aReaderThatBeginsDuringTheWaitDoesNotHoldItUp() throws Exception {
        HeldReader early = reader();
        Thread writer = synchronizeInBackground();
        awaitParked(writer); // it has flipped the index and waits for the early reader
        HeldReader late = reader();
        early.leave();
        writer.join(10_000);
        assertFalse(writer.isAlive(), "the grace period waited for a section that began after it");
        late.leave();
    }

    @Test
    void anIdleGracePeriodReturnsAndLeavesNewSectionsWorking() {
        for (int i = 0; i < 1000; i++) {
            srcu.synchronize();
        }
        int token = srcu.readLock();
        srcu.readUnlock(token);
        srcu.synchronize();
    }

    /** A published object that the writer frees after a grace period. */
    private static final class Box {
        volatile boolean freed;
    }

    /**
     * The classic torture: readers keep dereferencing the published box, the writer keeps replacing it and
     * freeing the old one after a grace period; no reader may ever see a freed box.
     */
    @Test
    void noReaderEverSeesAnObjectFreedAfterAGracePeriod() throws Exception {
        AtomicReference<Box> published = new AtomicReference<>(new Box());
        AtomicInteger violations = new AtomicInteger();
        AtomicLong sections = new AtomicLong();
        AtomicReference<Boolean> stop = new AtomicReference<>(false);
        List<Thread> readers = new ArrayList<>();
        for (int r = 0; r < 3; r++) {
            readers.add(Thread.ofPlatform().start(() -> {
                while (!stop.get()) {
                    int token = srcu.readLock();
                    Box box = published.get();
                    for (int spin = 0; spin < 50; spin++) {
                        Thread.onSpinWait();
                    }
                    if (box.freed) {
                        violations.incrementAndGet();
                    }
                    srcu.readUnlock(token);
                    sections.incrementAndGet();
                }
            }));
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
        int periods = 0;
        while (System.nanoTime() < deadline || periods < 1000) {
            Box old = published.getAndSet(new Box());
            srcu.synchronize();
            old.freed = true;
            periods++;
        }
        stop.set(true);
        for (Thread reader : readers) {
            reader.join(10_000);
            assertFalse(reader.isAlive());
        }
        assertEquals(0, violations.get(), "readers saw freed boxes");
        assertTrue(sections.get() > periods, "the readers hardly ran: " + sections.get() + " sections");
    }
}
