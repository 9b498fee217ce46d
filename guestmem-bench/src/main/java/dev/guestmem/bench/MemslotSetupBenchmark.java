package dev.guestmem.bench;

import static dev.guestmem.memslot.KvmLimits.PAGE_SHIFT;
import static dev.guestmem.memslot.KvmLimits.USER_MEM_SLOTS;

import dev.guestmem.host.HostMemory;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.perf.SlotLayout;
import dev.guestmem.vm.EngineVm;
import dev.guestmem.vm.VmType;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * memslot_perf_test's "slot setup" (kernel-selftests spec §B.2, §B.3 step 1): add data slots
 * {@code 1 .. slots} to a fresh VM with {@code KVM_SET_USER_MEMORY_REGION2}, flags 0, splitting
 * {@code MEM_SIZE} (131 088 pages) over them (the last slot takes the remainder), contiguous from
 * {@code MEM_GPA}. Slot 0, the VM's own, exists before the clock starts, as in the selftest.
 *
 * <p>With {@code mmap=true} every data slot gets its own anonymous mapping from {@link HostMemory#mmap},
 * inside the timed loop as in the selftest; with {@code mmap=false} the slots get unmapped host addresses
 * (the region checks only look at the number), which isolates the memslot cost. One measured invocation =
 * one whole setup; the VM and its mappings are torn down, untimed, after each.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5)
@Measurement(iterations = 10)
@Fork(value = 2, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class MemslotSetupBenchmark {
    /** Slot 0's size: not part of the measured work. */
    private static final long SLOT0_PAGES = 512;

    @Param({"TREE", "ARRAY"})
    public MemslotImpl impl;

    /** Data slots; 32763 = {@code KVM_CAP_NR_MEMSLOTS - 1}, the selftest's default. */
    @Param({"10", "509", "32763"})
    public int slots;

    @Param({"true", "false"})
    public boolean mmap;

    private long[] gpas;
    private long[] sizes;
    private long[] hvas;
    private HostMemory host;
    private EngineVm vm;
    private long slot0Hva;

    @Setup(Level.Trial)
    public void layout() {
        if (slots < 1 || slots >= USER_MEM_SLOTS) {
            throw new IllegalArgumentException("slots must be in 1.." + (USER_MEM_SLOTS - 1) + ": " + slots);
        }
        SlotLayout layout = SlotLayout.of(slots, Geometry.MEM_PAGES).orElseThrow();
        gpas = new long[slots + 1];
        sizes = new long[slots + 1];
        hvas = new long[slots + 1];
        for (int k = 1; k <= slots; k++) {
            gpas[k] = layout.gpa(k);
            sizes[k] = layout.bytes(k);
            hvas[k] = Geometry.FAKE_HVA + (gpas[k] - Geometry.MEM_GPA);
        }
    }

    @Setup(Level.Iteration)
    public void freshVm() {
        host = new HostMemory();
        vm = new EngineVm(host, VmType.DEFAULT, impl);
        slot0Hva = mmap ? mapOrThrow(SLOT0_PAGES << PAGE_SHIFT) : Geometry.FAKE_HVA - (SLOT0_PAGES << PAGE_SHIFT);
        check(vm.setUserMemoryRegion2(0, 0, 0, SLOT0_PAGES << PAGE_SHIFT, slot0Hva, -1, 0), 0);
    }

    /** Adds every data slot; returns the number added. */
    @Benchmark
    public int slotSetup() {
        for (int k = 1; k <= slots; k++) {
            long hva = mmap ? mapOrThrow(sizes[k]) : hvas[k];
            if (mmap) {
                hvas[k] = hva;
            }
            check(vm.setUserMemoryRegion2(k, 0, gpas[k], sizes[k], hva, -1, 0), k);
        }
        return slots;
    }

    @TearDown(Level.Iteration)
    public void dropVm() {
        try {
            if (vm.slot(slots).isEmpty()) {
                throw new IllegalStateException("slot " + slots + " missing after the setup");
            }
            vm.close();
            if (mmap) {
                for (int k = 1; k <= slots; k++) {
                    host.munmap(hvas[k], sizes[k]);
                }
                host.munmap(slot0Hva, SLOT0_PAGES << PAGE_SHIFT);
            }
        } finally {
            host.close();
        }
    }

    private long mapOrThrow(long length) {
        long hva = host.mmap(length);
        if (hva < 0) {
            throw new IllegalStateException("mmap of " + length + " bytes failed with errno " + -hva);
        }
        return hva;
    }

    private static void check(int rc, int slot) {
        if (rc != 0) {
            throw new IllegalStateException("adding slot " + slot + " failed with errno " + rc);
        }
    }
}
