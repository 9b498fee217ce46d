package dev.guestmem.host;

import static dev.guestmem.host.HostMemory.PAGE_SIZE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * Accessor threads hammer a mapping while another thread unmaps, re-maps, protects and discards it. If
 * the SRCU protocol were wrong the JVM would die of SIGSEGV; otherwise every access either succeeds
 * with a plausible value or throws {@link HostFault}.
 */
class HostMemoryConcurrencyTest {
    private static final int PAGES = 64;
    private static final int ACCESSORS = 3;
    private static final int MUTATIONS = 600;
    private static final long MAX_NANOS = 30_000_000_000L;

    @Test
    void accessorsSurviveConcurrentUnmapProtectAndDiscard() throws InterruptedException {
        try (HostMemory host = new HostMemory()) {
            AtomicLong base = new AtomicLong(host.mmap(PAGES * PAGE_SIZE));
            AtomicBoolean stop = new AtomicBoolean();
            ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
            AtomicLong successes = new AtomicLong();
            AtomicLong faults = new AtomicLong();

            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < ACCESSORS; t++) {
                int id = t + 1;
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        hammer(host, base, stop, id, successes, faults);
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }));
            }
            try {
                mutate(host, base, () -> successes.get() > 0 && faults.get() > 0);
            } finally {
                stop.set(true);
                for (Thread thread : threads) {
                    thread.join();
                }
            }
            if (!failures.isEmpty()) {
                AssertionError error = new AssertionError("accessor failed");
                failures.forEach(error::addSuppressed);
                throw error;
            }
            assertTrue(successes.get() > 0, "some accesses succeeded");
            assertTrue(faults.get() > 0, "some accesses faulted");
        }
    }

    /**
     * Cycles the mapping through every way of taking access away, and back: {@link #MUTATIONS} times, and
     * on until the accessors have seen both outcomes (on a busy machine they may not even have started
     * within the first {@code MUTATIONS}), for at most {@link #MAX_NANOS}.
     */
    private static void mutate(HostMemory host, AtomicLong base, BooleanSupplier bothOutcomesSeen) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long deadline = System.nanoTime() + MAX_NANOS;
        for (int i = 0; i < MUTATIONS || !bothOutcomesSeen.getAsBoolean() && System.nanoTime() - deadline < 0; i++) {
            long hva = base.get();
            long page = random.nextInt(PAGES) * PAGE_SIZE;
            switch (i % 6) {
                case 0 -> assertEquals(0, host.mprotect(hva, PAGES * PAGE_SIZE, Protection.READ));
                case 1 -> assertEquals(0, host.mprotect(hva + page, PAGE_SIZE, Protection.NONE));
                case 2 -> assertEquals(0, host.mprotect(hva, PAGES * PAGE_SIZE, Protection.READ_WRITE));
                case 3 -> assertEquals(0, host.madvise(hva + page, PAGE_SIZE, Advice.DONTNEED));
                case 4 -> assertEquals(0, host.munmap(hva + page, PAGE_SIZE));
                default -> {
                    assertEquals(0, host.munmap(hva, PAGES * PAGE_SIZE));
                    long fresh = host.mmap(PAGES * PAGE_SIZE);
                    assertTrue(fresh > 0);
                    base.set(fresh);
                }
            }
        }
    }

    /**
     * Each thread owns word {@code id} of every page and stores increasing values tagged with its id, so
     * a successful read must return 0 (fresh, discarded or bulk-zeroed page) or a value this thread
     * stored there.
     */
    private static void hammer(HostMemory host, AtomicLong base, AtomicBoolean stop, int id,
            AtomicLong successes, AtomicLong faults) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long tag = (long) id << 48;
        long counter = 0;
        try (Arena arena = Arena.ofConfined()) {
            // Whole-mapping copies keep an access in flight for many microseconds: a wide window
            // for a racing munmap or mprotect to hit if the grace period were missing.
            // Bulk writes store zeros, which every reader accepts.
            MemorySegment buffer = arena.allocate(PAGES * PAGE_SIZE);
            MemorySegment zeros = arena.allocate(PAGES * PAGE_SIZE);
            while (!stop.get()) {
                long hva = base.get() + random.nextInt(PAGES) * PAGE_SIZE + 8L * id;
                try {
                    switch (random.nextInt(6)) {
                        case 0, 1 -> host.write64(hva, tag | ++counter);
                        case 2 -> {
                            long value = host.read64(hva);
                            if (value != 0 && ((value & ~0xFFFF_FFFF_FFFFL) != tag
                                    || (value & 0xFFFF_FFFF_FFFFL) > counter)) {
                                throw new AssertionError("thread " + id + " read foreign value 0x"
                                        + Long.toHexString(value));
                            }
                        }
                        case 3 -> host.read(base.get(), buffer);
                        case 4 -> host.write(base.get(), zeros);
                        default -> host.resolvePage(hva, random.nextBoolean());
                    }
                    successes.incrementAndGet();
                } catch (HostFault fault) {
                    faults.incrementAndGet();
                }
            }
        }
    }
}
