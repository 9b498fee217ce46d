package dev.guestmem.dirty;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.host.Advice;
import dev.guestmem.memslot.MemslotFlags;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.mmu.Interleaver;
import dev.guestmem.mmu.MmuMutation;
import dev.guestmem.mmu.MmuOptions;
import dev.guestmem.mmu.Spte;
import dev.guestmem.vcpu.Guest;
import dev.guestmem.vcpu.GuestCode;
import dev.guestmem.vcpu.MmuVcpu;
import dev.guestmem.vcpu.VcpuThread;
import dev.guestmem.vm.Access;
import dev.guestmem.vm.EngineVm;
import dev.guestmem.vm.Vcpu;
import dev.guestmem.vm.VmConfig;
import dev.guestmem.vm.VmType;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The two historical lost-write bugs of mmu.md §3.4 / §8.6, driven through the dirty-log ioctls and the
 * memslot flag change rather than the MMU primitives: each scenario runs on the real MMU, where the
 * invariant holds, and with the protective step removed ({@link MmuMutation}), where the same scenario
 * must show the bug — so the test can fail.
 */
class DirtyLogRaceTest {
    private static final long GPA = 0xC000_0000L;
    private static final long MB2 = 0x20_0000;
    private static final long PAGE = 4096;
    private static final int LOG = MemslotFlags.LOG_DIRTY_PAGES;
    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    private static EngineVm vm(Interleaver points, MmuMutation mutation) {
        MmuOptions options = MmuOptions.DEFAULT.withInterleaver(points);
        if (mutation != null) {
            options = options.withMutation(mutation);
        }
        return EngineVm.create(VmConfig.of(VmType.DEFAULT, MemslotImpl.TREE).withMmu(options));
    }

    /** Stops the first thread that reaches {@code point} until {@link #release()}. */
    private static final class PointGate implements Interleaver {
        private final String point;
        private final AtomicBoolean taken = new AtomicBoolean();
        private final CountDownLatch arrived = new CountDownLatch(1);
        private final CountDownLatch released = new CountDownLatch(1);

        PointGate(String point) {
            this.point = point;
        }

        @Override
        public void point(String name) {
            if (name.equals(point) && taken.compareAndSet(false, true)) {
                arrived.countDown();
                await(released);
            }
        }

        void awaitArrival() {
            await(arrived);
        }

        void release() {
            released.countDown();
        }

        private static void await(CountDownLatch latch) {
            try {
                if (!latch.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    throw new IllegalStateException("timed out");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    /**
     * Guest code that stores to {@code target} (its TLB now holds a writable entry), then keeps loading
     * {@code spin} in guest mode until told to go, then stores to {@code target} again and records how
     * many faults that store took.
     */
    private static final class HoldWritableEntry implements GuestCode {
        private final Vcpu vcpu;
        private final long target;
        private final long spin;
        private final CountDownLatch ready = new CountDownLatch(1);
        private final AtomicBoolean go = new AtomicBoolean();
        private volatile long faultsOnSecondStore = -1;

        HoldWritableEntry(Vcpu vcpu, long target, long spin) {
            this.vcpu = vcpu;
            this.target = target;
            this.spin = spin;
        }

        @Override
        public void run(Guest g) {
            g.write64(target, 1);
            g.read64(spin);
            ready.countDown();
            while (!go.get()) {
                g.read64(spin);
            }
            long before = vcpu.stats().orElseThrow().pfTaken();
            g.write64(target, 2);
            faultsOnSecondStore = vcpu.stats().orElseThrow().pfTaken() - before;
        }
    }

    // ---------------------------------------------------------------------------------------------
    // The 2012/2014 race: GET_DIRTY_LOG's deferred flush vs write tracking

    private record TrackingRace(boolean writableEntryAfterTracking, long faultsOnStore, long[] log) {
    }

    /**
     * T1 = {@code KVM_GET_DIRTY_LOG} reaps gfn G, write-protects it (W cleared, MMU-writable kept) and stops
     * after dropping the MMU lock with its flush still owed; T2 = write tracking of G ({@code
     * writeProtectGfn}), which must flush before returning because G was MMU-writable although W is 0
     * (INV-A). A vCPU holds a writable TLB entry for G throughout.
     */
    private static TrackingRace trackingRace(MmuMutation mutation) throws Exception {
        PointGate beforeFlush = new PointGate("dirty-log.beforeFlush");
        try (EngineVm vm = vm(beforeFlush, mutation)) {
            long hva = vm.host().mmap(4 * PAGE);
            assertEquals(0, vm.setUserMemoryRegion(1, LOG, GPA, 4 * PAGE, hva));
            MmuVcpu cpu = (MmuVcpu) vm.vcpu(0);
            HoldWritableEntry guest = new HoldWritableEntry(cpu, GPA, GPA + PAGE);
            VcpuThread vcpuThread = VcpuThread.start(cpu, guest);
            PointGate.await(guest.ready);
            long[] log = new long[1];
            Thread t1 = Thread.ofPlatform().start(() -> assertEquals(0, vm.getDirtyLog(1, log)));
            beforeFlush.awaitArrival();
            vm.mmu().trackWrites(GPA >>> 12);
            boolean stale = cpu.tlbMapsHostRange(hva, hva + PAGE, true) && !cpu.flushPending();
            guest.go.set(true);
            vcpuThread.join(TIMEOUT);
            beforeFlush.release();
            t1.join(TIMEOUT.toMillis());
            assertEquals(2, vm.host().read64(hva), "the second store happened either way");
            return new TrackingRace(stale, guest.faultsOnSecondStore, log);
        }
    }

    @Test
    void getDirtyLogRacingWithWriteTrackingLeavesNoWritableEntry() throws Exception {
        TrackingRace r = trackingRace(null);
        assertFalse(r.writableEntryAfterTracking(), "I3: a writable TLB entry survived writeProtectGfn");
        assertEquals(1, r.faultsOnStore(), "the store to a write-tracked gfn must trap");
        assertArrayEquals(new long[] {1}, r.log(), "GET reported G");
    }

    @Test
    void getDirtyLogRaceCatchesAFlushDecidedFromW() throws Exception {
        TrackingRace r = trackingRace(MmuMutation.FLUSH_DECIDED_FROM_W);
        assertTrue(r.writableEntryAfterTracking(), "tracking trusted W == 0 and skipped its flush");
        assertEquals(0, r.faultsOnStore(), "the store went through the stale writable entry");
    }

    // ---------------------------------------------------------------------------------------------
    // Huge pages: logging turned on write-protects a 2 MiB leaf; writes must be split, each logged

    private record HugeWrites(long[] log, boolean writableHugeLeaf, long hugeLeavesAfterEnable) {
    }

    private static HugeWrites hugeWrites(MmuMutation mutation) {
        try (EngineVm vm = vm(Interleaver.NONE, mutation)) {
            long raw = vm.host().mmap(2 * MB2);
            long hva = (raw + MB2 - 1) & -MB2;
            assertEquals(0, vm.host().madvise(hva, MB2, Advice.HUGEPAGE));
            assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA, MB2, hva));
            Vcpu cpu = vm.vcpu(0);
            assertEquals(Access.STORED, cpu.write64(GPA, 1));
            assertEquals(1, vm.stats().orElseThrow().pages2m(), "mapped with one 2 MiB leaf");
            assertEquals(0, vm.setUserMemoryRegion(1, LOG, GPA, MB2, hva)); // FLAGS_ONLY: logging on
            long hugeAfterEnable = vm.stats().orElseThrow().pages2m();
            assertEquals(Access.STORED, cpu.write64(GPA + 5 * PAGE, 5));
            assertEquals(Access.STORED, cpu.write64(GPA + 9 * PAGE, 9));
            boolean[] writableHuge = new boolean[1];
            vm.mmu().forEachLeaf((gfn, level, spte) -> writableHuge[0] |= level > 1 && Spte.isWritable(spte));
            long[] log = new long[8];
            assertEquals(0, vm.getDirtyLog(1, log));
            if (mutation == null) {
                assertEquals(List.of(), vm.mmu().invariants().violations());
            }
            return new HugeWrites(log, writableHuge[0], hugeAfterEnable);
        }
    }

    @Test
    void writesToTwoPagesOfAWriteProtectedHugeMappingAreBothLogged() {
        HugeWrites r = hugeWrites(null);
        assertEquals(1, r.hugeLeavesAfterEnable(), "enabling logging made the huge leaf read-only, not dropped");
        assertArrayEquals(new long[] {1L << 5 | 1L << 9, 0, 0, 0, 0, 0, 0, 0}, r.log());
        assertFalse(r.writableHugeLeaf(), "I4: no writable huge leaf while logging");
    }

    @Test
    void hugeMappingTestCatchesAFastPathThatFixesHugeSptes() {
        HugeWrites r = hugeWrites(MmuMutation.FAST_PATH_FIXES_HUGE);
        assertArrayEquals(new long[] {1L << 5, 0, 0, 0, 0, 0, 0, 0}, r.log(), "the second write went unlogged");
        assertTrue(r.writableHugeLeaf());
    }

    @Test
    void loggingOffLetsHugeMappingsComeBack() {
        try (EngineVm vm = EngineVm.create(VmType.DEFAULT, MemslotImpl.TREE)) {
            long raw = vm.host().mmap(2 * MB2);
            long hva = (raw + MB2 - 1) & -MB2;
            assertEquals(0, vm.host().madvise(hva, MB2, Advice.HUGEPAGE));
            assertEquals(0, vm.setUserMemoryRegion(1, LOG, GPA, MB2, hva));
            Vcpu cpu = vm.vcpu(0);
            for (long p = 0; p < 512; p++) {
                assertEquals(Access.STORED, cpu.write64(GPA + p * PAGE, p));
            }
            assertEquals(0, vm.stats().orElseThrow().pages2m(), "logging maps 4 KiB pages only");
            assertEquals(512, vm.stats().orElseThrow().pages4k());
            assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA, MB2, hva)); // logging off: recovery
            assertEquals(0, vm.stats().orElseThrow().pages4k(), "the 4 KiB table was zapped");
            assertEquals(Access.STORED, cpu.write64(GPA, 7));
            assertEquals(1, vm.stats().orElseThrow().pages2m(), "and the next fault maps 2 MiB again");
            assertEquals(List.of(), vm.mmu().invariants().violations());
        }
    }
}
