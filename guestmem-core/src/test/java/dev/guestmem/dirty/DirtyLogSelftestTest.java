package dev.guestmem.dirty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.guestmem.memslot.MemslotFlags;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.migrate.VcpuPause;
import dev.guestmem.vcpu.Guest;
import dev.guestmem.vcpu.GuestCode;
import dev.guestmem.vcpu.VcpuThread;
import dev.guestmem.vm.Access;
import dev.guestmem.vm.Capability;
import dev.guestmem.vm.EngineVm;
import dev.guestmem.vm.VmType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The port of {@code dirty_log_test.c} (kernel-selftests.md §A.6, DLT-M1/M2/M3), with several vCPU
 * threads instead of one: guest code stores the current iteration number into random pages of a logging
 * slot of {@code 2^k + 3} pages while the host collects the log once during the iteration (and again
 * whenever a ring fills) and once after stopping the vCPUs. Then every page is checked: a page reported
 * dirty holds this iteration's value (with the ring's and INITIALLY_SET's documented exceptions), and a
 * page not reported holds an older value — one holding this iteration's value is a lost dirty page.
 *
 * <p>CI size: 32 MiB + 3 pages, 2 vCPUs, 8 iterations of 10 ms per mode. {@code -Dstress=true}: the
 * selftest's 1 GiB + 3 pages, 4 vCPUs, 64 iterations of 50 ms.
 */
class DirtyLogSelftestTest {
    private static final boolean STRESS = Boolean.getBoolean("stress");
    private static final long PAGE = 4096;
    private static final long GPA = 0x1_0000_0000L;
    private static final int SLOT = 1;
    private static final long PAGES = (STRESS ? (1L << 30) : (32L << 20)) / PAGE + 3;
    private static final int VCPUS = STRESS ? 4 : 2;
    private static final int ITERATIONS = STRESS ? 64 : 8;
    private static final long INTERVAL_MS = STRESS ? 50 : 10;
    private static final int MIN_WRITES = 256;

    enum Mode { DIRTY_LOG, CLEAR_LOG, DIRTY_RING }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void noDirtyPageIsLost(Mode mode) throws Exception {
        try (EngineVm vm = EngineVm.create(VmType.DEFAULT, MemslotImpl.TREE)) {
            new Run(vm, mode).run();
            assertEquals(List.of(), vm.mmu().invariants().violations());
            DirtyLogStats stats = vm.dirtyLog().stats();
            assertEquals(0, stats.lostWithoutVcpu());
            assertEquals(0, stats.ringOverflows());
        }
    }

    /** One run of the test in one mode. */
    private static final class Run {
        private final EngineVm vm;
        private final Mode mode;
        private final VcpuPause gate = new VcpuPause(VCPUS, true);
        private final AtomicLong iteration = new AtomicLong();
        private final AtomicLong writes = new AtomicLong();
        private final AtomicBoolean ringFull = new AtomicBoolean();
        private final AtomicReference<String> guestFailure = new AtomicReference<>();
        private final long[] bmap0 = new long[(int) DirtyBitmap.wordsFor(PAGES)];
        private final long[] bmap1 = new long[bmap0.length];
        private final List<RingHarvester> harvesters = new ArrayList<>();
        /** Offset of the last entry harvested from each ring, this iteration and the previous one. */
        private final long[] lastOffset = new long[VCPUS];
        private final long[] previousLastOffset = new long[VCPUS];
        private final AtomicLong totalWrites = new AtomicLong();
        private long hva;
        private long dirtyPages;

        Run(EngineVm vm, Mode mode) {
            this.vm = vm;
            this.mode = mode;
        }

        void run() throws Exception {
            setUp();
            List<VcpuThread> threads = new ArrayList<>();
            for (int id = 0; id < VCPUS; id++) {
                threads.add(VcpuThread.start(vm.vcpu(id), new Writer(id)));
            }
            gate.pauseAll(); // every vCPU parked before the first iteration
            try {
                for (long it = 1; it <= ITERATIONS; it++) {
                    iterate(it);
                }
            } finally {
                gate.quitAll();
                for (VcpuThread t : threads) {
                    t.join(Duration.ofSeconds(60));
                }
            }
            assertEquals(null, guestFailure.get());
            assertTrue(dirtyPages > 0, "nothing was ever reported dirty");
            System.out.printf("DirtyLogSelftestTest %s: %d pages, %d vCPUs, %d iterations: %d stores, %d pages"
                    + " reported dirty, none lost%n", mode, PAGES, VCPUS, ITERATIONS, totalWrites.get(), dirtyPages);
        }

        private void setUp() {
            switch (mode) {
                case DIRTY_LOG -> {
                }
                case CLEAR_LOG -> assertEquals(0, vm.enableCap(Capability.MANUAL_DIRTY_LOG_PROTECT2,
                        DirtyLogCaps.MANUAL_PROTECT_ENABLE | DirtyLogCaps.INITIALLY_SET));
                case DIRTY_RING -> assertEquals(0, vm.enableCap(Capability.DIRTY_LOG_RING, ringEntries() * 16L));
            }
            hva = vm.host().mmap(PAGES * PAGE);
            assertTrue(hva > 0);
            assertEquals(0, vm.setUserMemoryRegion(SLOT, MemslotFlags.LOG_DIRTY_PAGES, GPA, PAGES * PAGE, hva));
            if (mode == Mode.DIRTY_RING) {
                for (int id = 0; id < VCPUS; id++) {
                    harvesters.add(new RingHarvester(vm.dirtyLog().ring(id)));
                }
            }
        }

        /** The selftest's ring size: the largest power of two within 65536 entries and the page count. */
        private static int ringEntries() {
            return (int) Math.min(65536, Long.highestOneBit(PAGES));
        }

        private void iterate(long it) throws InterruptedException {
            iteration.set(it);
            writes.set(0);
            System.arraycopy(lastOffset, 0, previousLastOffset, 0, VCPUS);
            Arrays.fill(lastOffset, -1);
            ringFull.set(false);
            gate.resumeAll();
            long start = System.nanoTime();
            boolean first = true;
            do {
                Thread.sleep(1);
                if (first || (mode == Mode.DIRTY_RING && ringFull.getAndSet(false))) {
                    collect(bmap0);
                    first = false;
                }
            } while (System.nanoTime() - start < INTERVAL_MS * 1_000_000 || writes.get() < MIN_WRITES);
            gate.pauseAll();
            totalWrites.addAndGet(writes.get());
            collect(bmap1);
            verify(it);
        }

        /** ORs what the log reports into {@code into}. */
        private void collect(long[] into) {
            long[] got = new long[into.length];
            switch (mode) {
                case DIRTY_LOG -> assertEquals(0, vm.getDirtyLog(SLOT, got));
                case CLEAR_LOG -> {
                    assertEquals(0, vm.getDirtyLog(SLOT, got));
                    assertEquals(0, vm.clearDirtyLog(SLOT, 0, (int) PAGES, got));
                }
                case DIRTY_RING -> harvestRings(got);
            }
            for (int i = 0; i < into.length; i++) {
                into[i] |= got[i];
            }
        }

        private void harvestRings(long[] into) {
            int harvested = 0;
            for (int id = 0; id < VCPUS; id++) {
                int ring = id;
                harvested += harvesters.get(id).harvest((slot, offset) -> {
                    assertEquals(SLOT, slot, "ring entry of another slot");
                    assertTrue(Long.compareUnsigned(offset, PAGES) < 0, "ring offset past the slot: " + offset);
                    into[(int) (offset >>> 6)] |= 1L << offset;
                    lastOffset[ring] = offset;
                });
            }
            assertEquals(harvested, vm.resetDirtyRings(), "entries reset != entries harvested");
        }

        private void verify(long it) {
            Set<Long> last = offsets(lastOffset);
            Set<Long> previousLast = offsets(previousLastOffset);
            for (long p = 0; p < PAGES; p++) {
                int w = (int) (p >>> 6);
                long bit = 1L << p;
                boolean in0 = (bmap0[w] & bit) != 0;
                boolean in1 = (bmap1[w] & bit) != 0;
                long value = vm.host().read64(hva + p * PAGE);
                if (in0 || in1) {
                    dirtyPages++;
                    boolean ok = value == it
                            || (mode == Mode.DIRTY_RING && previousLast.contains(p) && value == it - 1)
                            || (mode == Mode.DIRTY_RING && last.contains(p) && value < it)
                            || (mode == Mode.CLEAR_LOG && it == 1 && in0 && !in1 && value == 0);
                    if (!ok) {
                        fail(mode + " iteration " + it + ": page " + p + " reported dirty but holds " + value);
                    }
                } else if (value >= it) {
                    fail(mode + " iteration " + it + ": lost dirty page " + p + " (holds " + value + ", not reported)");
                }
            }
            Arrays.fill(bmap0, 0);
            Arrays.fill(bmap1, 0);
        }

        private static Set<Long> offsets(long[] perRing) {
            Set<Long> set = new HashSet<>();
            for (long o : perRing) {
                if (o >= 0) {
                    set.add(o);
                }
            }
            return set;
        }

        /**
         * The guest: stores the current iteration into random pages. A store that exits because the ring is
         * full is executed again later with the same value, as the guest instruction would be.
         */
        private final class Writer implements GuestCode {
            private final SplittableRandom random;

            Writer(int id) {
                this.random = new SplittableRandom(0x5eed + id);
            }

            @Override
            public void run(Guest g) {
                long gpa = -1;
                long value = 0;
                while (!gate.quit()) {
                    if (gate.pauseRequested()) {
                        g.idle(gate::park);
                        continue;
                    }
                    if (gpa < 0) {
                        gpa = GPA + random.nextLong(PAGES) * PAGE;
                        value = iteration.get();
                    }
                    if (g.write64(gpa, value)) {
                        writes.incrementAndGet();
                        gpa = -1;
                    } else if (g.lastExit() instanceof Access.RingFull) {
                        ringFull.set(true);
                        g.idle(Thread::yield);
                    } else {
                        guestFailure.compareAndSet(null, "unexpected exit " + g.lastExit());
                        return;
                    }
                }
            }
        }
    }
}
