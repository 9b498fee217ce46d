package dev.guestmem.bench;

import dev.guestmem.host.Protection;
import dev.guestmem.vm.Access;
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
public class RefaultBenchmark extends OneSlotVm {
    private static final long SIZE = 512L << 20;

    @Override
    long size() {
        return SIZE;
    }

    @Override
    void prepare() {
        for (long off = 0; off < SIZE; off += 4096) {
            vm.host().write64(hva + off, off);
        }
    }

    @Setup(Level.Iteration)
    public void zap() {
        if (vm.host().mprotect(hva, SIZE, Protection.READ) != 0
                || vm.host().mprotect(hva, SIZE, Protection.READ_WRITE) != 0) {
            throw new IllegalStateException("mprotect");
        }
        next = 0;
    }

    @Benchmark
    public Access faultOnResidentPage() {
        return storeToNextPage();
    }
}
