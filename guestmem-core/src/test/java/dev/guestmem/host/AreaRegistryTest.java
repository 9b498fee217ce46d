package dev.guestmem.host;

import static dev.guestmem.host.HostMemory.PAGE_SIZE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class AreaRegistryTest {
    private static final long BASE = 0x7000_0000_0000L;

    private static Area area(long startPage, long endPage, long id) {
        return new Area(BASE + startPage * PAGE_SIZE, BASE + endPage * PAGE_SIZE, Protection.READ_WRITE, false, id);
    }

    private static long at(long page) {
        return BASE + page * PAGE_SIZE;
    }

    @Test
    void findReturnsTheCoveringAreaOnly() {
        AreaRegistry registry = new AreaRegistry();
        registry.insert(area(0, 2, 0));
        registry.insert(area(4, 5, 1));
        assertEquals(area(0, 2, 0), registry.find(at(1) + 123));
        assertNull(registry.find(at(2)));
        assertNull(registry.find(at(0) - 1));
        assertNull(registry.find(-1L));
        assertEquals(area(4, 5, 1), registry.find(at(4)));
        assertNull(registry.find(at(5)));
    }

    @Test
    void overlappingInsertsAreRefused() {
        AreaRegistry registry = new AreaRegistry();
        registry.insert(area(2, 4, 0));
        assertThrows(IllegalStateException.class, () -> registry.insert(area(3, 6, 1)));
        assertThrows(IllegalStateException.class, () -> registry.insert(area(0, 3, 1)));
        registry.insert(area(4, 6, 1)); // adjacent is fine
        assertEquals(2, registry.size());
    }

    @Test
    void updateSplitsAndMergesWithinOneMappingButNotAcrossMappings() {
        AreaRegistry registry = new AreaRegistry();
        registry.insert(area(0, 4, 0));
        registry.insert(area(4, 8, 1));
        assertTrue(registry.update(at(2), at(6), a -> a.withProtection(Protection.READ)));
        assertEquals(List.of(area(0, 2, 0), area(2, 4, 0).withProtection(Protection.READ),
                area(4, 6, 1).withProtection(Protection.READ), area(6, 8, 1)), registry.all());

        assertFalse(registry.update(at(2), at(3), a -> a.withProtection(Protection.READ)), "no change");
        assertTrue(registry.update(at(0), at(8), a -> a.withProtection(Protection.READ_WRITE)));
        assertEquals(List.of(area(0, 4, 0), area(4, 8, 1)), registry.all(), "merged back per mapping");
    }

    @Test
    void updateRemovesParts() {
        AreaRegistry registry = new AreaRegistry();
        registry.insert(area(0, 8, 0));
        registry.update(at(3), at(5), a -> null);
        assertEquals(List.of(area(0, 3, 0), area(5, 8, 0)), registry.all());
        registry.update(at(0), at(8), a -> null);
        assertTrue(registry.isEmpty());
    }

    @Test
    void coveredRunsAndPrefixSkipHoles() {
        AreaRegistry registry = new AreaRegistry();
        registry.insert(area(0, 2, 0));
        registry.insert(area(2, 3, 1));
        registry.insert(area(5, 7, 2));
        List<long[]> runs = registry.coveredRuns(at(1), at(6));
        assertEquals(2, runs.size());
        assertArrayEquals(new long[] {at(1), at(3)}, runs.get(0));
        assertArrayEquals(new long[] {at(5), at(6)}, runs.get(1));
        assertEquals(0, registry.coveredRuns(at(3), at(5)).size());
        assertEquals(at(3), registry.coveredPrefixEnd(at(0), at(7)));
        assertEquals(at(4), registry.coveredPrefixEnd(at(4), at(7)));
        assertEquals(at(6), registry.coveredPrefixEnd(at(5), at(6)));
    }

    /**
     * Atomic publication: while one thread keeps splitting and merging the areas around it, a reader
     * looking up an address that is never unmapped must always find an area covering it. (This test
     * caught the non-atomic floor lookup of a concurrent skip list in an earlier version.)
     */
    @Test
    void concurrentReadersNeverSeeATransientHole() throws InterruptedException {
        AreaRegistry registry = new AreaRegistry();
        registry.insert(area(0, 64, 0));
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<String> failure = new AtomicReference<>();
        Thread reader = Thread.ofPlatform().start(() -> {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            while (!stop.get()) {
                long hva = at(random.nextInt(64)) + 8 * random.nextInt(512);
                Area found = registry.find(hva);
                if (found == null || !found.covers(hva)) {
                    failure.compareAndSet(null, "hole at 0x" + Long.toHexString(hva) + ": " + found);
                }
            }
        });
        ThreadLocalRandom random = ThreadLocalRandom.current();
        try {
            for (int i = 0; i < 20_000 && failure.get() == null; i++) {
                long from = random.nextInt(64);
                long to = from + 1 + random.nextInt((int) (64 - from));
                Protection protection = Protection.values()[random.nextInt(3)];
                boolean huge = random.nextBoolean();
                registry.update(at(from), at(to), a -> a.withProtection(protection).withHugeAdvised(huge));
            }
        } finally {
            stop.set(true);
            reader.join();
        }
        assertNull(failure.get());
        registry.update(at(0), at(64), a -> a.withProtection(Protection.READ_WRITE).withHugeAdvised(false));
        assertEquals(List.of(area(0, 64, 0).withHugeAdvised(false)), registry.all(), "one area again");
    }
}
