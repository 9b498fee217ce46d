package dev.guestmem.bench;

import dev.guestmem.vcpu.GuestCode;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A guest store to a page a GET has just write-protected, per page (target ≤ 300 ns): the TLB miss and
 * walk, the EPT violation, the fast path's CAS and dirty bit, re-entry, the store. Each call stores once
 * into each of {@value #PAGES_PER_CALL} consecutive pages of the slot of {@link DirtyLogSlot}, which a GET
 * write-protected just before (unmeasured).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class DirtyLogRedirtyBenchmark extends DirtyLogSlot {
    static final int PAGES_PER_CALL = 4096;

    private final GuestCode redirty = g -> {
        for (long p = 0; p < PAGES_PER_CALL; p++) {
            g.write64(GPA + (p << 12), p);
        }
    };

    @Setup(Level.Invocation)
    public void protect() {
        check(vm.getDirtyLog(1, bitmap));
    }

    @Benchmark
    @OperationsPerInvocation(PAGES_PER_CALL)
    public void redirtyProtectedPage() {
        vcpu.run(redirty);
    }
}
