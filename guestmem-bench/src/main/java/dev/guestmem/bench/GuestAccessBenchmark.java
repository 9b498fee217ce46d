package dev.guestmem.bench;

import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.vcpu.GuestCode;
import dev.guestmem.vm.Access;
import dev.guestmem.vm.EngineVm;
import dev.guestmem.vm.Vcpu;
import dev.guestmem.vm.VmType;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Guest access throughput of one vCPU thread on mapped memory (every access a TLB hit): 8-byte loads
 * and stores over 1 MiB (256 pages, all inside the 512-entry TLB) from guest code that stays in guest
 * mode ({@link Vcpu#run}); one invocation runs {@value #BATCH} accesses. For comparison, the per-access
 * {@link Vcpu#read64} of the trace API, which enters and leaves guest mode and returns an {@link Access}.
 * Reported as operations (accesses) per microsecond.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class GuestAccessBenchmark {
    static final int BATCH = 1 << 16;
    private static final long GPA = 0x1_0000_0000L;
    private static final long SIZE = 1 << 20;
    private static final long MASK = SIZE - 8;

    private EngineVm vm;
    private Vcpu vcpu;
    private long sum;
    private final GuestCode loads = g -> {
        long s = 0;
        for (int i = 0; i < BATCH; i++) {
            s += g.read64(GPA + ((i * 8L * 67) & MASK));
        }
        sum += s;
    };
    private final GuestCode stores = g -> {
        for (int i = 0; i < BATCH; i++) {
            g.write64(GPA + ((i * 8L * 67) & MASK), i);
        }
    };

    @Setup
    public void setUp() {
        vm = EngineVm.create(VmType.DEFAULT, MemslotImpl.TREE);
        long hva = vm.host().mmap(SIZE);
        if (vm.setUserMemoryRegion(1, 0, GPA, SIZE, hva) != 0) {
            throw new IllegalStateException("region");
        }
        vcpu = vm.vcpu(0);
        for (long off = 0; off < SIZE; off += 4096) {
            if (!(vcpu.write64(GPA + off, off) instanceof Access.Stored)) {
                throw new IllegalStateException("prefault");
            }
        }
    }

    @TearDown
    public void tearDown() {
        vm.close();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long loadInGuestMode() {
        vcpu.run(loads);
        return sum;
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void storeInGuestMode() {
        vcpu.run(stores);
    }

    @Benchmark
    public void read64PerCall(Blackhole bh) {
        bh.consume(vcpu.read64(GPA + ((sum++ * 8 * 67) & MASK)));
    }
}
