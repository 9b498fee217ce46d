package dev.guestmem.bench;

import dev.guestmem.vcpu.GuestCode;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Legacy {@code KVM_GET_DIRTY_LOG} of the 1 GiB slot of {@link DirtyLogSlot} when 1% of its pages (2,621,
 * spread at random) were re-dirtied since the last GET: snapshot-and-clear, write-protect exactly those
 * pages, flush (target ≤ 2 ms). The re-dirtying (fast-path faults) happens before each call, unmeasured.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class DirtyLogGetDirtyBenchmark extends DirtyLogSlot {
    private final long[] onePercent = new long[(int) (PAGES / 100)];
    private final GuestCode dirtyOnePercent = g -> {
        for (long gpa : onePercent) {
            g.write64(gpa, gpa);
        }
    };

    @Setup(Level.Trial)
    public void choosePages() {
        SplittableRandom random = new SplittableRandom(1);
        for (int i = 0; i < onePercent.length; i++) {
            onePercent[i] = GPA + (random.nextLong(PAGES) << 12);
        }
    }

    @Setup(Level.Invocation)
    public void dirtyOnePercent() {
        vcpu.run(dirtyOnePercent);
    }

    @Benchmark
    public long getOnePercentDirty() {
        check(vm.getDirtyLog(1, bitmap));
        return bitmap[0];
    }
}
