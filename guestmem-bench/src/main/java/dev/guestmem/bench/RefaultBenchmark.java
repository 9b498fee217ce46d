package dev.guestmem.bench;

import dev.guestmem.host.Protection;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.vm.Access;
import dev.guestmem.vm.EngineVm;
import dev.guestmem.vm.Vcpu;
import dev.guestmem.vm.VmType;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The MMU's share of a fault: a guest store to a page whose host memory is resident (the host wrote it)
 * but whose SPTE is gone — zapped by an {@code mprotect} round trip before each iteration, which keeps
 * the pages populated. The same path as {@link FirstTouchFaultBenchmark} minus the kernel's page
 * population: TLB miss, walk, exit, fault (SRCU, slot, sequence, GUP, MMU lock, install), re-walk.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 20, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 20, time = 20, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class RefaultBenchmark {
    private static final long GPA = 0x1_0000_0000L;
    private static final long SIZE = 512L << 20;

    private EngineVm vm;
    private Vcpu vcpu;
    private long hva;
    private long next;

    @Setup(Level.Trial)
    public void setUp() {
        vm = EngineVm.create(VmType.DEFAULT, MemslotImpl.TREE);
        hva = vm.host().mmap(SIZE);
        for (long off = 0; off < SIZE; off += 4096) {
            vm.host().write64(hva + off, off);
        }
        if (vm.setUserMemoryRegion(1, 0, GPA, SIZE, hva) != 0) {
            throw new IllegalStateException("region");
        }
        vcpu = vm.vcpu(0);
    }

    @Setup(Level.Iteration)
    public void zap() {
        if (vm.host().mprotect(hva, SIZE, Protection.READ) != 0
                || vm.host().mprotect(hva, SIZE, Protection.READ_WRITE) != 0) {
            throw new IllegalStateException("mprotect");
        }
        next = 0;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        vm.close();
    }

    @Benchmark
    public Access faultOnResidentPage() {
        long off = next;
        next = (off + 4096) & (SIZE - 1);
        return vcpu.write64(GPA + off, off);
    }
}
