package dev.guestmem.bench;

import static dev.guestmem.memslot.KvmLimits.PAGE_SHIFT;
import static dev.guestmem.memslot.KvmLimits.PAGE_SIZE;

import dev.guestmem.host.Advice;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.vcpu.Guest;
import dev.guestmem.vcpu.VcpuThread;
import dev.guestmem.vm.EngineVm;
import dev.guestmem.vm.VmType;
import java.time.Duration;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
 * memslot_perf_test's {@code map} and {@code unmap} workloads (kernel-selftests spec §B.1, §B.2, §B.4):
 * data slots 1..{@code slots}, each its own anonymous mapping, contiguous from {@code MEM_GPA}, the test
 * area starting 64 KiB in. A vCPU thread runs the guest loop; the benchmark thread is the host, and one
 * measured operation is one host loop iteration, with guest and host running concurrently.
 *
 * <ul>
 *   <li>{@code map} (32 MiB + 64 KiB): the guest stores to every page of the first half of the 32 MiB test
 *       area, syncs, then of the second half, syncs; the host discards the second half (split at slot
 *       boundaries) while the guest maps the first, syncs, discards the first, syncs. 8192 faults and 8192
 *       pages invalidated per iteration.</li>
 *   <li>{@code unmap} (128 MiB + 64 KiB): the guest stores to the first page of each half; the host
 *       discards each half one page per {@code madvise} — 32768 invalidations per iteration.</li>
 * </ul>
 * Syncs are rendezvous of the two threads (the vCPU leaves guest mode to wait, like a HLT exit).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class MemslotPerfBenchmark {
    private static final long MEM_GPA = 0x1000_0000L;
    private static final long EXTRA_PAGES = 16; // MEM_EXTRA_SIZE, 64 KiB
    private static final long VAL_1 = 0x1122334455667788L;
    private static final long VAL_2 = 0x99AABBCCDDEEFF00L;
    private static final Duration SYNC_TIMEOUT = Duration.ofSeconds(30);

    @Param({"map", "unmap"})
    public String workload;

    @Param({"509", "8192"})
    public int slots;

    @Param({"TREE", "ARRAY"})
    public MemslotImpl impl;

    private EngineVm vm;
    private long[] slotGpa;
    private long[] slotHva;
    private long[] slotBytes;
    private long testPages;
    private CyclicBarrier sync;
    private volatile boolean stop;
    private VcpuThread vcpu;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        long mempages = EXTRA_PAGES + ("map".equals(workload) ? 8192 : 32768);
        testPages = mempages - EXTRA_PAGES;
        long perSlot = mempages / slots;
        if (perSlot == 0) {
            throw new IllegalArgumentException("Memslot count too high for this test");
        }
        vm = EngineVm.create(VmType.DEFAULT, impl);
        long slot0 = vm.host().mmap(1 << 20);
        check(vm.setUserMemoryRegion2(0, 0, 0, 1 << 20, slot0, -1, 0)); // the VM's own slot
        slotGpa = new long[slots + 1];
        slotHva = new long[slots + 1];
        slotBytes = new long[slots + 1];
        for (int k = 1; k <= slots; k++) {
            slotGpa[k] = MEM_GPA + ((k - 1) * perSlot << PAGE_SHIFT);
            slotBytes[k] = (perSlot + (k == slots ? mempages % slots : 0)) << PAGE_SHIFT;
            slotHva[k] = vm.host().mmap(slotBytes[k]);
            check(vm.setUserMemoryRegion2(k, 0, slotGpa[k], slotBytes[k], slotHva[k], -1, 0));
        }
        sync = new CyclicBarrier(2);
        long testGpa = MEM_GPA + (EXTRA_PAGES << PAGE_SHIFT);
        long half = testPages / 2;
        boolean map = "map".equals(workload);
        vcpu = VcpuThread.start(vm.vcpu(0), g -> {
            rendezvous(g);
            while (true) {
                store(g, testGpa, map ? half : 1, VAL_1);
                rendezvous(g);
                if (stop) {
                    return;
                }
                store(g, testGpa + (half << PAGE_SHIFT), map ? half : 1, VAL_2);
                rendezvous(g);
                if (stop) {
                    return;
                }
            }
        });
        hostSync(); // the guest is running
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        stop = true;
        hostSync();
        vcpu.join(SYNC_TIMEOUT);
        vm.close();
    }

    @Benchmark
    public void hostLoop() throws Exception {
        long testGpa = MEM_GPA + (EXTRA_PAGES << PAGE_SHIFT);
        long half = testPages / 2;
        long secondHalf = testGpa + (half << PAGE_SHIFT);
        if ("map".equals(workload)) {
            discard(secondHalf, half, half);
            hostSync();
            discard(testGpa, half, half);
            hostSync();
        } else {
            hostSync();
            discard(testGpa, half, 1);
            hostSync();
            discard(secondHalf, half, 1);
        }
    }

    private static void store(Guest g, long gpa, long pages, long value) {
        for (long p = 0; p < pages; p++) {
            if (!g.write64(gpa + (p << PAGE_SHIFT), value)) {
                throw new IllegalStateException("guest store exited: " + g.lastExit());
            }
        }
    }

    /** MADV_DONTNEED of {@code pages} guest pages from {@code gpa}, {@code chunk} pages per call, split at slots. */
    private void discard(long gpa, long pages, long chunk) {
        for (long done = 0; done < pages; done += chunk) {
            long start = gpa + (done << PAGE_SHIFT);
            long end = start + (Math.min(chunk, pages - done) << PAGE_SHIFT);
            for (int k = slotFor(start); k <= slots && slotGpa[k] < end; k++) {
                long from = Math.max(start, slotGpa[k]);
                long to = Math.min(end, slotGpa[k] + slotBytes[k]);
                check(vm.host().madvise(slotHva[k] + (from - slotGpa[k]), to - from, Advice.DONTNEED));
            }
        }
    }

    private int slotFor(long gpa) {
        int lo = 1;
        int hi = slots;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (slotGpa[mid] <= gpa) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }

    private void hostSync() throws InterruptedException, BrokenBarrierException, TimeoutException {
        sync.await(SYNC_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void rendezvous(Guest g) {
        g.idle(() -> {
            try {
                sync.await(SYNC_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private static void check(int rc) {
        if (rc != 0) {
            throw new IllegalStateException("errno " + rc);
        }
    }

    static {
        if (PAGE_SIZE != 4096) {
            throw new ExceptionInInitializerError("4 KiB pages assumed");
        }
    }
}
