package dev.guestmem.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** {@link Rcu}: callbacks run only after a grace period, in batches, and all of them at a barrier. */
class RcuTest {
    private final Rcu rcu = new Rcu();
    private final AtomicInteger ran = new AtomicInteger();

    @Test
    void reclaimWaitsForABatch() {
        for (int i = 0; i < Rcu.BATCH - 1; i++) {
            rcu.callRcu(ran::incrementAndGet);
        }
        assertEquals(0, rcu.reclaim(), "fewer than a batch: no grace period yet");
        assertEquals(0, ran.get());
        rcu.callRcu(ran::incrementAndGet);
        assertEquals(Rcu.BATCH, rcu.reclaim());
        assertEquals(Rcu.BATCH, ran.get());
        assertEquals(0, rcu.reclaim());
    }

    @Test
    void barrierRunsEvenOneCallback() {
        rcu.callRcu(ran::incrementAndGet);
        assertEquals(1, rcu.barrier());
        assertEquals(1, ran.get());
        assertEquals(0, rcu.barrier());
    }

    @Test
    void aCallbackWaitsForTheReaderThatCouldSeeTheRetiredObject() throws Exception {
        HeldReader reader = new HeldReader(rcu::readLock, rcu::readUnlock);
        AtomicBoolean readerDone = new AtomicBoolean();
        rcu.callRcu(() -> assertTrue(readerDone.get(), "ran inside the reader's section"));
        rcu.callRcu(ran::incrementAndGet);
        Thread reclaimer = Thread.ofPlatform().start(rcu::barrier);
        reclaimer.join(50);
        assertTrue(reclaimer.isAlive(), "the barrier waits for the reader");
        assertEquals(0, ran.get());
        readerDone.set(true);
        reader.leave();
        reclaimer.join(10_000);
        assertFalse(reclaimer.isAlive());
        assertEquals(1, ran.get());
    }
}
