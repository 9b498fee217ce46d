package dev.guestmem.memslot;

import static dev.guestmem.memslot.KvmLimits.GEN_UPDATE_IN_PROGRESS;
import static dev.guestmem.memslot.KvmLimits.PAGE_SIZE;
import static dev.guestmem.memslot.Slots.list;
import static dev.guestmem.memslot.Slots.slot;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.sync.Srcu;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Lock-free readers against a concurrent writer, and the grace period the writer must wait for. */
class MemslotStoreConcurrencyTest {
    private static final int ADDRESS_SPACES = 2;

    /**
     * A reader holds a set inside its read section while the writer installs: the held set must not
     * change under it, and install must not return before the reader has left its section.
     */
    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void installWaitsForAReaderHoldingTheOldSet(MemslotImpl impl) throws Exception {
        Srcu srcu = new Srcu();
        MemslotStore store = impl.create(ADDRESS_SPACES, srcu, PublishBarrier.NONE);
        Memslot a = Slots.create(store, slot(0, 1, 0x100, 0x10, 0x10000));
        Memslot b = Slots.create(store, slot(0, 2, 0x200, 0x10, 0x20000));

        CountDownLatch holding = new CountDownLatch(1);
        AtomicBoolean readerLeft = new AtomicBoolean();
        AtomicReference<Throwable> readerFailure = new AtomicReference<>();
        Thread reader = new Thread(() -> {
            int token = srcu.readLock();
            try {
                MemslotSet held = store.active(0);
                List<Memslot> before = list(held.all());
                long generation = held.generation();
                holding.countDown();
                while (store.active(0) == held) {
                    Thread.onSpinWait();
                }
                // The new set is published; give a writer that skipped the grace period time to edit.
                Thread.sleep(200);
                assertEquals(before, list(held.all()));
                assertEquals(generation, held.generation());
                assertSame(a, held.byId(1));
                assertSame(a, held.lookup(0x105));
                assertEquals(List.of(a), list(held.inHvaRange(0x10000, 0x10001)));
                assertEquals(2, held.size());
                readerLeft.set(true);
            } catch (Throwable t) {
                readerFailure.set(t);
            } finally {
                srcu.readUnlock(token);
            }
        });
        reader.start();
        holding.await();
        Memslot invalid = a.invalidCopy();
        store.install(0, 1, invalid);
        boolean leftBeforeReturn = readerLeft.get();
        reader.join();
        if (readerFailure.get() != null) {
            throw new AssertionError("reader saw its set change", readerFailure.get());
        }
        assertTrue(leftBeforeReturn, "install returned while a reader still held the old set");
        assertSame(invalid, store.active(0).lookup(0x105));
        assertSame(b, store.active(0).byId(2));
        Slots.checkInvariants(store);
    }

    /**
     * Readers loop over lookups and full walks while a writer creates, moves, re-flags and deletes
     * slots in both address spaces. Every set a reader sees must be internally consistent and stay
     * unchanged during its section, and every slot must have been live at some point of that section.
     */
    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void readersNeverSeeATornOrStaleSet(MemslotImpl impl) throws Exception {
        Srcu srcu = new Srcu();
        MemslotStore store = impl.create(ADDRESS_SPACES, srcu, PublishBarrier.NONE);
        AtomicLong epoch = new AtomicLong();
        Map<Memslot, Long> publishedAt = new ConcurrentHashMap<>();
        Map<Memslot, Long> retiredAt = new ConcurrentHashMap<>();
        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();

        int readerCount = Math.max(2, Math.min(4, Runtime.getRuntime().availableProcessors() - 1));
        List<Thread> readers = new ArrayList<>();
        AtomicLongArray sections = new AtomicLongArray(readerCount);
        for (int r = 0; r < readerCount; r++) {
            int index = r;
            readers.add(new Thread(() -> {
                VcpuSlotCache[] caches = {new VcpuSlotCache(), new VcpuSlotCache()};
                try {
                    while (!done.get() && failure.get() == null) {
                        int as = (int) (sections.get(index) & 1);
                        int token = srcu.readLock();
                        try {
                            long start = epoch.get();
                            readSection(store.active(as), caches[as], start, epoch, publishedAt, retiredAt);
                        } finally {
                            srcu.readUnlock(token);
                        }
                        sections.incrementAndGet(index);
                        // Leave the writer some processor time on small machines.
                        Thread.yield();
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            }, "reader-" + r));
        }
        readers.forEach(Thread::start);
        try {
            // Keep writing until every reader has overlapped plenty of installs, however the threads
            // get scheduled; the cap only guards against a reader that stopped making progress.
            BooleanSupplier enough = () -> IntStream.range(0, readerCount).allMatch(r -> sections.get(r) >= 400);
            runWriter(store, new Random(42), epoch, publishedAt, retiredAt, 400, enough, 5_000_000, failure);
        } finally {
            done.set(true);
            for (Thread t : readers) {
                t.join();
            }
        }
        if (failure.get() != null) {
            throw new AssertionError("concurrent check failed", failure.get());
        }
        for (int r = 0; r < readerCount; r++) {
            assertTrue(sections.get(r) >= 400, "reader " + r + " ran " + sections.get(r) + " sections");
        }
        Slots.checkInvariants(store);
    }

    private static void readSection(MemslotSet set, VcpuSlotCache cache, long start, AtomicLong epoch,
            Map<Memslot, Long> publishedAt, Map<Memslot, Long> retiredAt) {
        long generation = set.generation();
        List<Memslot> slots = list(set.all());
        assertEquals(slots.size(), set.size(), "size agrees with the walk");
        Memslot previous = null;
        for (Memslot s : slots) {
            assertEquals(set.asId(), s.asId());
            if (previous != null) {
                assertTrue(previous.endGfn() <= s.baseGfn(), "overlap or disorder: " + previous + " " + s);
            }
            previous = s;
            assertSame(s, set.byId(s.id()), "byId agrees with the walk");
            assertSame(s, set.lookup(s.baseGfn()));
            assertSame(s, set.lookup(s.endGfn() - 1, cache));
            assertSame(s, set.search(s.baseGfn() + s.npages() / 2, true));
            assertEquals(List.of(s), list(set.inGfnRange(s.baseGfn(), s.endGfn())));
            assertTrue(list(set.inHvaRange(s.userspaceAddr(), s.hvaEnd())).contains(s));
            assertNotSame(s, set.lookup(s.endGfn()), "lookup past the end");
        }
        long end = epoch.get();
        for (Memslot s : slots) {
            Long published = publishedAt.get(s);
            Long retired = retiredAt.get(s);
            assertTrue(published != null && published <= end, "never published or published later: " + s);
            assertTrue(retired == null || retired >= start, "retired before the section began: " + s);
        }
        // The set must not have changed during the section (the grace period protects it).
        assertEquals(slots, list(set.all()), "set changed under a reader");
        long now = set.generation();
        assertTrue(now == generation || ((generation & GEN_UPDATE_IN_PROGRESS) != 0
                && now == (generation & ~GEN_UPDATE_IN_PROGRESS) + ADDRESS_SPACES),
                "generation went from " + generation + " to " + now);
    }

    private static void runWriter(MemslotStore store, Random random, AtomicLong epoch,
            Map<Memslot, Long> publishedAt, Map<Memslot, Long> retiredAt, int minInstalls,
            BooleanSupplier enough, int maxInstalls, AtomicReference<Throwable> failure) {
        ReferenceMemslots model = new ReferenceMemslots(ADDRESS_SPACES);
        int done = 0;
        while ((done < minInstalls || !enough.getAsBoolean()) && done < maxInstalls && failure.get() == null) {
            int as = random.nextInt(ADDRESS_SPACES);
            List<Memslot> all = model.all(as);
            int kind = all.isEmpty() ? 0 : random.nextInt(4);
            Memslot old = all.isEmpty() ? null : all.get(random.nextInt(all.size()));
            List<Memslot> steps = new ArrayList<>();
            switch (kind) {
                case 0 -> {
                    int id = random.nextInt(24);
                    if (model.byId(as, id) != null) {
                        continue;
                    }
                    steps.add(slot(as, id, random.nextInt(2048), 1 + random.nextInt(64),
                            0x10_0000L + random.nextInt(256) * PAGE_SIZE));
                }
                case 1 -> {
                    steps.add(old.invalidCopy());
                    steps.add(null);
                }
                case 2 -> {
                    steps.add(old.invalidCopy());
                    steps.add(new Memslot(as, old.id(), random.nextInt(2048), old.npages(), old.flags(),
                            old.userspaceAddr(), null));
                }
                default -> steps.add(new Memslot(as, old.id(), old.baseGfn(), old.npages(),
                        old.flags() ^ MemslotFlags.LOG_DIRTY_PAGES, old.userspaceAddr(), null));
            }
            Memslot last = steps.getLast();
            if (last != null && model.overlapsOther(as, last)) {
                continue;
            }
            int id = old != null && kind != 0 ? old.id() : last.id();
            for (Memslot next : steps) {
                Memslot replaced = model.byId(as, id);
                if (next != null) {
                    publishedAt.put(next, epoch.incrementAndGet());
                }
                store.install(as, id, next);
                model.install(as, id, next);
                if (replaced != null) {
                    retiredAt.put(replaced, epoch.incrementAndGet());
                }
                done++;
            }
        }
        assertEquals(model.all(0), list(store.active(0).all()));
        assertEquals(model.all(1), list(store.active(1).all()));
    }
}
