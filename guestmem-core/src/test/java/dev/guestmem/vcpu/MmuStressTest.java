package dev.guestmem.vcpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.host.Advice;
import dev.guestmem.host.HostMemory;
import dev.guestmem.host.HvaRange;
import dev.guestmem.host.InvalidationCause;
import dev.guestmem.host.InvalidationListener;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.mmu.MmuOptions;
import dev.guestmem.mmu.PageLevel;
import dev.guestmem.mmu.Spte;
import dev.guestmem.mmu.TdpMmu;
import dev.guestmem.vm.Access;
import dev.guestmem.vm.EngineVm;
import dev.guestmem.vm.FileTable;
import dev.guestmem.vm.SlotInfo;
import dev.guestmem.vm.VmConfig;
import dev.guestmem.vm.VmType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Randomized stress of the whole path: three vCPU threads load and store random words over several slots
 * while one thread moves, deletes and re-creates slots and another discards host pages. Checked:
 * every value a load returns is zero or one stored at that very guest page (each store carries its
 * slot and page), and the invariants of mmu.md §8.5 — I1, I5 and I8 through the MMU's own checks, I6
 * (when {@code invalidate_range_start} returns no SPTE and no usable TLB entry maps the range) by a
 * listener that runs right after the MMU's, I10 (no fault installs a page invalidated after its sequence
 * snapshot) by an install observer, and at the end every leaf agrees with the slots.
 */
class MmuStressTest {
    private static final int SLOTS = 3;
    private static final long PAGES = 64;
    private static final long SLOT_BYTES = PAGES * 0x1000;
    /** Slot s lives at BASE + s * STRIDE, or (moved) at BASE + s * STRIDE + MOVED; no two ranges overlap. */
    private static final long BASE = 0x100000000L;
    private static final long STRIDE = 0x1000000L;
    private static final long MOVED = 0x400000L;
    private static final int VCPUS = 3;
    private static final int ACCESSES = 60_000;
    private static final Duration JOIN = Duration.ofSeconds(60);
    /** No invalidation in flight: a range that contains nothing. */
    private static final HvaRange NO_RANGE = new HvaRange(0, 0);

    /** What a store at {@code gpa} writes: which slot and page it is, and a counter. */
    private static long tag(long gpa) {
        int slot = (int) ((gpa - BASE) / STRIDE);
        long page = ((gpa - BASE) % STRIDE % MOVED) >>> 12;
        return (long) (slot + 1) << 56 | page << 40 | (gpa & 0xFF8) << 24;
    }

    private static boolean plausible(long gpa, long value) {
        return value == 0 || (value & 0xFFFFFFFFFF000000L) == tag(gpa);
    }

    /** I6 and I10, observed from the host side of the invalidations. */
    private static final class HostSideChecks {
        final List<String> violations = new ArrayList<>();
        /** Per host page, the MMU sequence number just before the last invalidation covering it ended. */
        final ConcurrentHashMap<Long, Long> lastEnd = new ConcurrentHashMap<>();
        /**
         * The host range whose invalidation is between the MMU's start and end, or {@link #NO_RANGE}. One
         * reference, so an install never pairs the start of one invalidation with the end of the next.
         */
        volatile HvaRange inflight = NO_RANGE;
        /** The sequence number seen just before the MMU's end of the invalidation in flight. */
        volatile long seqBeforeEnd;
        TdpMmu mmu;
        List<MmuVcpu> vcpus;

        synchronized void violation(String what) {
            if (violations.size() < 20) {
                violations.add(what);
            }
        }

        /** Registered before the VM's notifier: its end runs before the MMU's end. */
        InvalidationListener beforeMmu() {
            return new InvalidationListener() {
                @Override
                public void invalidateRangeStart(long start, long end, InvalidationCause cause) {
                }

                @Override
                public void invalidateRangeEnd(long start, long end, InvalidationCause cause) {
                    seqBeforeEnd = mmu.window().seq();
                    inflight = NO_RANGE;
                }
            };
        }

        /** Registered after the VM's notifier: its start and end run once the MMU's have returned. */
        InvalidationListener afterMmu() {
            return new InvalidationListener() {
                @Override
                public void invalidateRangeStart(long start, long end, InvalidationCause cause) {
                    inflight = new HvaRange(start, end);
                    mmu.forEachLeaf((gfn, level, spte) -> {
                        if (!Spte.isMmio(spte)) {
                            long host = Spte.pfn(spte) << 12;
                            long span = PageLevel.pages(level) << 12;
                            if (host < end && host + span > start) {
                                violation("I6: a leaf for gfn 0x" + Long.toHexString(gfn) + " survived the start");
                            }
                        }
                    });
                    for (MmuVcpu v : vcpus) {
                        if (!v.flushPending() && v.tlbMapsHostRange(start, end, false)) {
                            violation("I6: vCPU " + v.id() + " may still use a TLB entry of the range");
                        }
                    }
                }

                @Override
                public void invalidateRangeEnd(long start, long end, InvalidationCause cause) {
                    // Only an invalidation that met a slot opened a window (and moved the sequence); one that
                    // met none cannot have raced a fault for its pages.
                    long before = seqBeforeEnd;
                    if (mmu.window().seq() != before) {
                        for (long p = start; p < end; p += 0x1000) {
                            lastEnd.merge(p, before, Math::max);
                        }
                    }
                }
            };
        }

        void installed(long gfn, long hva, boolean writable, long mmuSeq) {
            long page = hva & ~0xFFFL;
            if (inflight.contains(page)) {
                violation("I10: gfn 0x" + Long.toHexString(gfn) + " installed during an invalidation of its page");
            }
            Long ended = lastEnd.get(page);
            if (ended != null && ended >= mmuSeq) {
                violation("I10: gfn 0x" + Long.toHexString(gfn) + " installed a page invalidated after its snapshot");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void vcpusSlotChurnAndDiscardsKeepEveryInvariant(MemslotImpl impl) throws Exception {
        HostSideChecks checks = new HostSideChecks();
        try (HostMemory host = new HostMemory()) {
            host.addInvalidationListener(checks.beforeMmu());
            VmConfig config = VmConfig.of(VmType.DEFAULT, impl)
                    .withMmu(MmuOptions.DEFAULT.withInstallObserver(checks::installed));
            try (EngineVm vm = new EngineVm(host, new FileTable(), config)) {
                checks.mmu = vm.mmu();
                for (int c = 0; c < VCPUS; c++) {
                    vm.vcpu(c);
                }
                checks.vcpus = vm.vcpus();
                host.addInvalidationListener(checks.afterMmu());
                long[] hva = new long[SLOTS];
                for (int s = 0; s < SLOTS; s++) {
                    hva[s] = host.mmap(SLOT_BYTES);
                    assertEquals(0, vm.setUserMemoryRegion(s, 0, BASE + s * STRIDE, SLOT_BYTES, hva[s]));
                }
                List<String> badValues = new ArrayList<>();
                AtomicBoolean stop = new AtomicBoolean();
                List<VcpuThread> threads = new ArrayList<>();
                for (int c = 0; c < VCPUS; c++) {
                    long seed = 17 + c;
                    threads.add(VcpuThread.start(vm.vcpu(c), g -> guestLoop(g, new SplittableRandom(seed), badValues)));
                }
                Thread mover = Thread.ofPlatform().start(() -> moveLoop(vm, hva, stop));
                Thread discarder = Thread.ofPlatform().start(() -> discardLoop(host, hva, stop));
                for (VcpuThread t : threads) {
                    t.join(JOIN);
                }
                stop.set(true);
                mover.join(JOIN.toMillis());
                discarder.join(JOIN.toMillis());
                synchronized (badValues) {
                    assertEquals(List.of(), badValues);
                }
                synchronized (checks) {
                    assertEquals(List.of(), checks.violations);
                }
                assertEquals(List.of(), vm.mmu().invariants().violations(), "I1, I5, I8");
                leavesAgreeWithSlots(vm);
                assertTrue(vm.stats().orElseThrow().invalidations() > 0);
                assertTrue(vm.stats().orElseThrow().vcpus().pfFixed() > 0);
            }
        }
    }

    private static void guestLoop(Guest g, SplittableRandom random, List<String> badValues) {
        for (int i = 0; i < ACCESSES; i++) {
            int slot = random.nextInt(SLOTS);
            long base = BASE + slot * STRIDE + (random.nextBoolean() ? MOVED : 0);
            long gpa = base + (random.nextLong(PAGES) << 12) + (random.nextInt(4) << 3);
            if (random.nextInt(3) == 0) {
                g.write64(gpa, tag(gpa) | (i & 0xFFFFFF));
            } else {
                long v = g.read64(gpa);
                if (g.lastExit() == null && !plausible(gpa, v)) {
                    synchronized (badValues) {
                        if (badValues.size() < 20) {
                            badValues.add("gpa 0x" + Long.toHexString(gpa) + " read 0x" + Long.toHexString(v));
                        }
                    }
                } else if (g.lastExit() != null && !(g.lastExit() instanceof Access.Mmio)) {
                    synchronized (badValues) {
                        badValues.add("gpa 0x" + Long.toHexString(gpa) + ": " + g.lastExit());
                    }
                }
            }
        }
    }

    private static void moveLoop(EngineVm vm, long[] hva, AtomicBoolean stop) {
        SplittableRandom random = new SplittableRandom(99);
        boolean[] moved = new boolean[SLOTS];
        while (!stop.get()) {
            int s = random.nextInt(SLOTS);
            long current = BASE + s * STRIDE + (moved[s] ? MOVED : 0);
            if (random.nextBoolean()) {
                moved[s] = !moved[s];
                long next = BASE + s * STRIDE + (moved[s] ? MOVED : 0);
                check(vm.setUserMemoryRegion(s, 0, next, SLOT_BYTES, hva[s]));
            } else {
                check(vm.setUserMemoryRegion(s, 0, current, 0, 0));
                Thread.onSpinWait();
                check(vm.setUserMemoryRegion(s, 0, current, SLOT_BYTES, hva[s]));
            }
        }
    }

    private static void discardLoop(HostMemory host, long[] hva, AtomicBoolean stop) {
        SplittableRandom random = new SplittableRandom(7);
        while (!stop.get()) {
            int s = random.nextInt(SLOTS);
            long first = random.nextLong(PAGES);
            long pages = 1 + random.nextLong(Math.min(8, PAGES - first));
            check(host.madvise(hva[s] + (first << 12), pages << 12, Advice.DONTNEED));
            Thread.yield();
        }
    }

    private static void check(int rc) {
        if (rc != 0) {
            throw new IllegalStateException("host or memslot call failed: " + rc);
        }
    }

    /** At rest, each leaf translates a gfn of a present slot to exactly that slot's host page. */
    private static void leavesAgreeWithSlots(EngineVm vm) {
        List<String> wrong = new ArrayList<>();
        vm.mmu().forEachLeaf((gfn, level, spte) -> {
            if (Spte.isMmio(spte)) {
                return;
            }
            SlotInfo slot = null;
            for (int s = 0; s < SLOTS; s++) {
                SlotInfo info = vm.slot(s).orElse(null);
                if (info != null && gfn >= info.baseGfn() && gfn < info.baseGfn() + info.npages()) {
                    slot = info;
                }
            }
            if (slot == null || Spte.pfn(spte) != (slot.userspaceAddr() >>> 12) + (gfn - slot.baseGfn())) {
                wrong.add("gfn 0x" + Long.toHexString(gfn) + " -> pfn 0x" + Long.toHexString(Spte.pfn(spte)));
            }
        });
        assertEquals(List.of(), wrong);
    }
}
