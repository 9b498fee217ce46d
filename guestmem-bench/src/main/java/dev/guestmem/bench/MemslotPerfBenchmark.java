package dev.guestmem.bench;

import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.perf.PerfTarget;
import dev.guestmem.perf.PerfTest;
import dev.guestmem.perf.PerfVm;
import dev.guestmem.perf.SlotLayout;
import dev.guestmem.perf.SyncFlag;
import dev.guestmem.perf.Workload;
import dev.guestmem.trace.VmFactory;
import dev.guestmem.vcpu.VcpuThread;
import java.time.Duration;
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
 * memslot_perf_test's {@code map} and {@code unmap} workloads (kernel-selftests spec §B.1, §B.2, §B.4) under
 * JMH: the VM, the guest loop on its vCPU thread and the host loop are {@code guestmem perf}'s
 * ({@link dev.guestmem.perf}); one measured operation is one host loop iteration, with guest and host
 * running concurrently.
 *
 * <ul>
 *   <li>{@code map} (32 MiB + 64 KiB): 8192 faults and 8192 pages invalidated per iteration.</li>
 *   <li>{@code unmap} (128 MiB + 64 KiB): 32768 single-page discards per iteration.</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class MemslotPerfBenchmark {
    private static final Duration JOIN_TIMEOUT = Duration.ofSeconds(30);

    @Param({"map", "unmap"})
    public String workload;

    @Param({"509", "8192"})
    public int slots;

    @Param({"TREE", "ARRAY"})
    public MemslotImpl impl;

    private PerfVm vm;
    private SyncFlag sync;
    private Workload loops;
    private VcpuThread vcpu;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        PerfTest test = PerfTest.parse(workload);
        SlotLayout layout = SlotLayout.of(slots, test.memPages())
                .orElseThrow(() -> new IllegalArgumentException(SlotLayout.infeasibility(test, slots).orElseThrow()));
        vm = PerfVm.prepare(PerfTarget.engine(VmFactory.engine(), impl), layout);
        sync = new SyncFlag();
        loops = Workload.of(test, vm, sync);
        vcpu = VcpuThread.start(vm.vm().vcpu(0), loops.guest());
        sync.awaitGuestRunning();
        sync.start();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        sync.exit();
        vcpu.join(JOIN_TIMEOUT);
        vm.close();
    }

    @Benchmark
    public void hostLoop() {
        loops.hostLoop();
    }
}
