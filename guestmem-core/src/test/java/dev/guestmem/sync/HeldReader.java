package dev.guestmem.sync;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import java.util.function.IntSupplier;

/** A thread that enters a read-side section and stays inside it until {@link #leave()}. */
final class HeldReader {
    private final CountDownLatch inside = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);
    private final Thread thread;

    /** Starts the thread and returns once it is inside the section {@code lock} enters. */
    HeldReader(IntSupplier lock, IntConsumer unlock) throws InterruptedException {
        thread = Thread.ofPlatform().start(() -> {
            int token = lock.getAsInt();
            inside.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                unlock.accept(token);
            }
        });
        assertTrue(inside.await(10, TimeUnit.SECONDS), "the reader did not enter its section");
    }

    /** Lets the reader leave its section and waits until its thread has ended. */
    void leave() throws InterruptedException {
        release.countDown();
        thread.join(10_000);
        assertFalse(thread.isAlive());
    }
}
