package dev.guestmem.bench;

import dev.guestmem.memslot.MemslotFlags;
import dev.guestmem.memslot.MemslotImpl;
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
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Legacy {@code KVM_GET_DIRTY_LOG} when nothing is dirty: a scan of the bitmap (target ≥ 10 GB/s of
 * bitmap). {@link #getClean}: the 1 GiB slot of {@link DirtyLogSlot} (32 KiB of bitmap, target ≤ 3.3 µs);
 * {@link #getClean64GiB}: a 64 GiB slot (2 MiB of bitmap, nothing mapped), where fixed costs vanish.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class DirtyLogGetBenchmark extends DirtyLogSlot {
    private static final long BIG = 64L << 30;

    private EngineVm big;
    private final long[] bigBitmap = new long[(int) ((BIG >>> 12) / 64)];

    @Setup(Level.Trial)
    public void setUpBig() {
        big = EngineVm.create(VmType.DEFAULT, MemslotImpl.TREE);
        long hva = big.host().mmap(BIG);
        check(big.setUserMemoryRegion(1, MemslotFlags.LOG_DIRTY_PAGES, GPA, BIG, hva));
    }

    @TearDown(Level.Trial)
    public void tearDownBig() {
        big.close();
    }

    @Benchmark
    public long getClean() {
        check(vm.getDirtyLog(1, bitmap));
        return bitmap[0];
    }

    @Benchmark
    public long getClean64GiB() {
        check(big.getDirtyLog(1, bigBitmap));
        return bigBitmap[0];
    }
}
