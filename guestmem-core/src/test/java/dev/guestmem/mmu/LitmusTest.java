package dev.guestmem.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.host.Advice;
import dev.guestmem.memslot.Memslot;
import dev.guestmem.memslot.MemslotFlags;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.vcpu.MmuVcpu;
import dev.guestmem.vcpu.VcpuThread;
import dev.guestmem.vm.Access;
import dev.guestmem.vm.EngineVm;
import dev.guestmem.vm.SlotInfo;
import dev.guestmem.vm.Vcpu;
import dev.guestmem.vm.VmConfig;
import dev.guestmem.vm.VmType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The litmus tests of mmu.md §8.6 (1, 2, 5, 7, 8) as deterministic interleavings: named schedule points
 * ({@link Checkpoints}) put each thread exactly where the historical bug needed it. Every scenario runs
 * twice: with the MMU as it is, where the invariant holds, and with the protective step removed
 * ({@link MmuMutation}), where the same scenario must show the bug — proof that the test can fail.
 */
class LitmusTest {
    private static final long GPA = 0xC0000000L;
    private static final long MB2 = 0x200000;
    private static final Duration JOIN = Duration.ofSeconds(20);

    private static EngineVm vm(Checkpoints points, MmuMutation mutation) {
        MmuOptions options = MmuOptions.DEFAULT.withInterleaver(points);
        if (mutation != null) {
            options = options.withMutation(mutation);
        }
        return EngineVm.create(VmConfig.of(VmType.DEFAULT, MemslotImpl.TREE).withMmu(options));
    }

    private static Memslot memslot(EngineVm vm, int id) {
        SlotInfo s = vm.slot(id).orElseThrow();
        return new Memslot(s.asId(), s.id(), s.baseGfn(), s.npages(), s.flags(), s.userspaceAddr(), null);
    }

    private static long hva(EngineVm vm, int slot, long gpa) {
        SlotInfo s = vm.slot(slot).orElseThrow();
        return s.userspaceAddr() + (gpa - (s.baseGfn() << 12));
    }

    /** A 2 MiB-aligned mapping of {@code size} bytes. */
    private static long aligned(EngineVm vm, long size) {
        long raw = vm.host().mmap(size + MB2);
        return (raw + MB2 - 1) & -MB2;
    }

    private static void await(CountDownLatch latch) throws InterruptedException {
        assertTrue(latch.await(JOIN.toMillis(), TimeUnit.MILLISECONDS), "timed out");
    }

    /**
     * Guest code that stores to {@code target} (so its TLB holds a writable, dirty entry), says so, then
     * keeps loading {@code spin} — staying in guest mode, noticing kicks — until told to go, and finally
     * stores to {@code target} again, recording whether that store trapped.
     */
    private static final class HoldWritableEntry implements dev.guestmem.vcpu.GuestCode {
        final long target;
        final long spin;
        final Vcpu vcpu;
        final CountDownLatch ready = new CountDownLatch(1);
        final AtomicBoolean go = new AtomicBoolean();
        volatile long trapsOnSecondStore = -1;

        HoldWritableEntry(Vcpu vcpu, long target, long spin) {
            this.vcpu = vcpu;
            this.target = target;
            this.spin = spin;
        }

        @Override
        public void run(dev.guestmem.vcpu.Guest g) {
            g.write64(target, 1);
            g.read64(spin);
            ready.countDown();
            while (!go.get()) {
                g.read64(spin);
            }
            long before = vcpu.stats().orElseThrow().pfTaken();
            g.write64(target, 2);
            trapsOnSecondStore = vcpu.stats().orElseThrow().pfTaken() - before;
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Litmus 1: the 2012/2014 race — kind-A protection must decide its flush from MMU-writable

    private record Litmus1(boolean writableEntryAfterTracking, long trapsOnStore) {
    }

    private static Litmus1 litmus1(MmuMutation mutation) throws Exception {
        Checkpoints points = new Checkpoints();
        try (EngineVm vm = vm(points, mutation)) {
            long a = vm.host().mmap(0x4000);
            assertEquals(0, vm.setUserMemoryRegion(1, MemslotFlags.LOG_DIRTY_PAGES, GPA, 0x4000, a));
            MmuVcpu cpu = (MmuVcpu) vm.vcpu(0);
            HoldWritableEntry guest = new HoldWritableEntry(cpu, GPA, GPA + 0x1000);
            VcpuThread thread = VcpuThread.start(cpu, guest);
            await(guest.ready);
            // T1, GET_DIRTY_LOG: write-protects G for dirty logging (W cleared, MMU-writable kept) and stops
            // after unlocking, its flush still owed.
            assertTrue(vm.mmu().writeProtectMasked(memslot(vm, 1), 0, 1));
            // T2, write tracking: must flush because G was MMU-writable, although W is already clear.
            vm.mmu().trackWrites(GPA >>> 12);
            boolean stale = cpu.tlbMapsHostRange(a, a + 0x1000, true) && !cpu.flushPending();
            guest.go.set(true);
            thread.join(JOIN);
            vm.mmu().flushRemoteTlbs(); // T1's deferred flush
            assertEquals(2, vm.host().read64(a));
            return new Litmus1(stale, guest.trapsOnSecondStore);
        }
    }

    @Test
    void litmus1WriteTrackingFlushesWhatDirtyLoggingDeferred() throws Exception {
        Litmus1 r = litmus1(null);
        assertFalse(r.writableEntryAfterTracking(), "I3: a writable TLB entry survived writeProtectGfn");
        assertEquals(1, r.trapsOnStore(), "the store to a write-tracked gfn must trap");
    }

    @Test
    void litmus1CatchesAFlushDecidedFromW() throws Exception {
        Litmus1 r = litmus1(MmuMutation.FLUSH_DECIDED_FROM_W);
        assertTrue(r.writableEntryAfterTracking());
        assertEquals(0, r.trapsOnStore(), "the store went through the stale entry");
    }

    // ---------------------------------------------------------------------------------------------
    // Litmus 2: the fast path must not make a huge SPTE of a logging slot writable

    private record Litmus2(Set<Long> dirty, boolean writableHugeLeaf) {
    }

    private static Litmus2 litmus2(MmuMutation mutation) {
        try (EngineVm vm = vm(new Checkpoints(), mutation)) {
            long a = aligned(vm, MB2);
            assertEquals(0, vm.host().madvise(a, MB2, Advice.HUGEPAGE));
            assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA, MB2, a));
            Vcpu cpu = vm.vcpu(0);
            assertEquals(Access.STORED, cpu.write64(GPA, 1));
            assertEquals(1, vm.stats().orElseThrow().pages2m());
            Set<Long> dirty = ConcurrentHashMap.newKeySet();
            vm.mmu().setDirtyTracker(new DirtyTracker() {
                @Override
                public void markPageDirty(Memslot slot, long gfn) {
                    dirty.add(gfn);
                }
            });
            // Dirty logging is switched on without eager splitting: huge leaves are write-protected
            // (kind B) so that the first write splits them, then the enable path flushes.
            assertEquals(0, vm.setUserMemoryRegion(1, MemslotFlags.LOG_DIRTY_PAGES, GPA, MB2, a));
            vm.mmu().writeProtectSlot(memslot(vm, 1), PageLevel.PG_2M);
            vm.mmu().flushRemoteTlbs();
            assertEquals(Access.STORED, cpu.write64(GPA + 0x5000, 5));
            assertEquals(Access.STORED, cpu.write64(GPA + 0x9000, 9));
            boolean[] writableHuge = new boolean[1];
            vm.mmu().forEachLeaf((gfn, level, spte) -> writableHuge[0] |= level > 1 && Spte.isWritable(spte));
            return new Litmus2(dirty, writableHuge[0]);
        }
    }

    @Test
    void litmus2HugeSptesOfLoggingSlotsAreSplitNotFixed() {
        Litmus2 r = litmus2(null);
        long g = GPA >>> 12;
        assertEquals(Set.of(g + 5, g + 9), r.dirty(), "I2: both writes are logged");
        assertFalse(r.writableHugeLeaf(), "I4");
    }

    @Test
    void litmus2CatchesAFastPathThatFixesHugeSptes() {
        Litmus2 r = litmus2(MmuMutation.FAST_PATH_FIXES_HUGE);
        long g = GPA >>> 12;
        assertEquals(Set.of(g + 5), r.dirty(), "the second write went unlogged");
        assertTrue(r.writableHugeLeaf());
    }

    // ---------------------------------------------------------------------------------------------
    // Litmus 5: a zap that yields the MMU lock must first flush

    private record Litmus5(boolean staleEntryAfterInvalidation, long trapsOnStore) {
    }

    private static Litmus5 litmus5(MmuMutation mutation) throws Exception {
        Checkpoints points = new Checkpoints();
        try (EngineVm vm = vm(points, mutation)) {
            long a = vm.host().mmap(0x4000);
            assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA, 0x4000, a));
            long b = vm.host().mmap(0x1000);
            assertEquals(0, vm.setUserMemoryRegion(2, 0, GPA + 0x100000, 0x1000, b));
            MmuVcpu cpu = (MmuVcpu) vm.vcpu(0);
            assertEquals(Access.STORED, cpu.write64(GPA + 0x2000, 0)); // G2 mapped too
            HoldWritableEntry guest = new HoldWritableEntry(cpu, GPA + 0x1000, GPA + 0x100000);
            VcpuThread thread = VcpuThread.start(cpu, guest);
            await(guest.ready);
            // T1 zaps [G1, G2] and yields the lock after G1, before G2.
            long g1 = (GPA >>> 12) + 1;
            points.yieldZapAt(g1 + 1);
            Checkpoints.Gate yielded = points.arm("zap.yielded");
            Thread t1 = Thread.ofPlatform().start(() -> vm.mmu().zapGfnRange(g1, g1 + 2));
            yielded.awaitArrival();
            // T2: the host discards G1. Its notifier finds G1 already zapped and owes no flush.
            assertEquals(0, vm.host().madvise(a + 0x1000, 0x1000, Advice.DONTNEED));
            // I6: once invalidate_range_start returned, no usable TLB entry may name the page.
            boolean stale = cpu.tlbMapsHostRange(a + 0x1000, a + 0x2000, false) && !cpu.flushPending();
            // The vCPU stores to G1 while T1 is away: through a stale entry at once, or by faulting, which
            // retries until T1's invalidation window closes.
            guest.go.set(true);
            while (thread.isAlive() && cpu.stats().orElseThrow().pfRetry() == 0) {
                Thread.onSpinWait();
            }
            yielded.release();
            t1.join(JOIN);
            thread.join(JOIN);
            return new Litmus5(stale, guest.trapsOnSecondStore);
        }
    }

    @Test
    void litmus5AZapFlushesBeforeItYields() throws Exception {
        Litmus5 r = litmus5(null);
        assertFalse(r.staleEntryAfterInvalidation(), "I6");
        assertTrue(r.trapsOnStore() >= 1, "after the discard the store must fault");
    }

    @Test
    void litmus5CatchesAYieldWithoutFlush() throws Exception {
        Litmus5 r = litmus5(MmuMutation.NO_FLUSH_BEFORE_YIELD);
        assertTrue(r.staleEntryAfterInvalidation());
        assertEquals(0, r.trapsOnStore(), "the store used the entry of a discarded page");
    }

    // ---------------------------------------------------------------------------------------------
    // Litmus 7: a fault that meets a FROZEN SPTE must retry, never overwrite it

    private record Litmus7(List<String> violations, long retriesWhileFrozen, long value) {
    }

    private static Litmus7 litmus7(MmuMutation mutation) throws Exception {
        Checkpoints points = new Checkpoints();
        try (EngineVm vm = vm(points, mutation)) {
            long a = aligned(vm, MB2);
            assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA, MB2, a));
            Vcpu cpu0 = vm.vcpu(0);
            for (long off = 0; off < MB2; off += 0x10000) {
                assertEquals(Access.STORED, cpu0.write64(GPA + off, off)); // 4 KiB leaves: a level-1 table
            }
            assertEquals(0, vm.host().madvise(a, MB2, Advice.HUGEPAGE)); // now the frame may be huge
            Checkpoints.Gate frozen = points.arm("frozen.afterFreeze");
            AtomicLong zapped = new AtomicLong();
            // T1: huge-page recovery freezes the table's SPTE and stops before its flush.
            Thread t1 = Thread.ofPlatform().start(() -> zapped.set(vm.mmu().recoverHugePages(memslot(vm, 1),
                    vmFaults(vm))));
            frozen.awaitArrival();
            // T2: a vCPU faults on the same SPTE.
            Vcpu cpu1 = vm.vcpu(1);
            AtomicLong value = new AtomicLong(-1);
            VcpuThread t2 = VcpuThread.start(cpu1, g -> value.set(g.read64(GPA + 0x30000)));
            long retries;
            if (mutation == null) {
                retries = awaitRetries(cpu1);
            } else {
                t2.join(JOIN); // the broken fault does not wait for the freezer
                retries = cpu1.stats().orElseThrow().pfRetry();
            }
            frozen.release();
            t1.join(JOIN);
            t2.join(JOIN);
            assertEquals(1, zapped.get());
            return new Litmus7(vm.mmu().invariants().violations(), retries, value.get());
        }
    }

    private static HugePagePolicy vmFaults(EngineVm vm) {
        return new HugePagePolicy(vm.host(), vm.mmu().tracking());
    }

    /** Waits (bounded) until the vCPU has retried a fault; returns its retry count. */
    private static long awaitRetries(Vcpu cpu) throws InterruptedException {
        long deadline = System.nanoTime() + JOIN.toNanos();
        while (System.nanoTime() < deadline) {
            long r = cpu.stats().orElseThrow().pfRetry();
            if (r > 0) {
                return r;
            }
            Thread.sleep(1);
        }
        return cpu.stats().orElseThrow().pfRetry();
    }

    @Test
    void litmus7AFaultBacksOffFromAFrozenSpte() throws Exception {
        Litmus7 r = litmus7(null);
        assertTrue(r.retriesWhileFrozen() > 0, "the fault saw FROZEN and retried");
        assertEquals(List.of(), r.violations(), "I8");
        assertEquals(0x30000, r.value());
    }

    @Test
    void litmus7CatchesAFaultThatOverwritesFrozen() throws Exception {
        Litmus7 r = litmus7(MmuMutation.IGNORE_FROZEN);
        assertTrue(r.violations().stream().anyMatch(v -> v.startsWith("I8")), r.violations()::toString);
    }

    // ---------------------------------------------------------------------------------------------
    // Litmus 8: a fault whose page was invalidated after its sequence snapshot must retry

    private record Litmus8(long retries, boolean installedWritable, boolean hostKnowsOfTheWrite, long read) {
    }

    private static Litmus8 litmus8(MmuMutation mutation) throws Exception {
        Checkpoints points = new Checkpoints();
        try (EngineVm vm = vm(points, mutation)) {
            long a = vm.host().mmap(0x4000);
            assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA, 0x4000, a));
            vm.host().write64(a + 0x1000, 7); // written: a read fault resolves it writable
            Vcpu cpu = vm.vcpu(0);
            AtomicLong read = new AtomicLong(-1);
            CountDownLatch readDone = new CountDownLatch(1);
            AtomicBoolean go = new AtomicBoolean();
            List<Thread> vcpuThread = new ArrayList<>();
            CountDownLatch started = new CountDownLatch(1);
            AtomicReference<Checkpoints.Gate> gate = new AtomicReference<>();
            VcpuThread t = VcpuThread.start(cpu, g -> {
                vcpuThread.add(Thread.currentThread());
                started.countDown();
                g.idle(() -> {
                    while (gate.get() == null) {
                        Thread.onSpinWait();
                    }
                });
                read.set(g.read64(GPA + 0x1000));
                readDone.countDown();
                g.idle(() -> {
                    while (!go.get()) {
                        Thread.onSpinWait();
                    }
                });
                g.write64(GPA + 0x1000, 8);
            });
            await(started);
            // The fault stops after GUP and both lockless checks, before the MMU lock.
            gate.set(points.arm("fault.beforeLock", vcpuThread.get(0)));
            gate.get().awaitArrival();
            // The host discards the page between the fault's GUP and its install.
            assertEquals(0, vm.host().madvise(a + 0x1000, 0x1000, Advice.DONTNEED));
            gate.get().release();
            await(readDone);
            boolean[] writable = new boolean[1];
            vm.mmu().forEachLeaf((gfn, level, spte) -> writable[0] |= gfn == (GPA >>> 12) + 1 && Spte.isWritable(spte));
            go.set(true);
            t.join(JOIN);
            return new Litmus8(cpu.stats().orElseThrow().pfRetry(), writable[0],
                    vm.host().isWrittenSinceDiscard(a + 0x1000), read.get());
        }
    }

    @Test
    void litmus8AFaultRetriesWhenItsPageWasInvalidated() throws Exception {
        Litmus8 r = litmus8(null);
        assertTrue(r.retries() >= 1, "I10: the stale page was not installed");
        assertFalse(r.installedWritable(), "the discarded page is the zero page again: read-only");
        assertTrue(r.hostKnowsOfTheWrite(), "the later store went through a write fault");
        assertEquals(0, r.read());
    }

    @Test
    void litmus8CatchesAMissingRecheck() throws Exception {
        Litmus8 r = litmus8(MmuMutation.NO_INVALIDATION_RECHECK);
        assertEquals(0, r.retries());
        assertTrue(r.installedWritable(), "the page resolved before the discard was installed");
        assertFalse(r.hostKnowsOfTheWrite(), "a guest store the host never saw coming");
        assertNotEquals(-1, r.read());
    }
}
