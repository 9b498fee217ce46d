package dev.guestmem.bench;

import dev.guestmem.memslot.MemslotFlags;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.vcpu.GuestCode;
import dev.guestmem.vm.EngineVm;
import dev.guestmem.vm.Vcpu;
import dev.guestmem.vm.VmType;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The dirty-log targets of issue 4, each on a 1 GiB logging slot (262,144 pages, a 32 KiB bitmap) whose
 * pages a vCPU has written once since logging was turned on:
 * <ul>
 *   <li>{@link #getOnePercentDirty}: legacy {@code KVM_GET_DIRTY_LOG} (snapshot-and-clear, write-protect
 *       the reaped pages, flush) when 1% of the pages, spread at random, were re-dirtied since the last
 *       GET (target ≤ 2 ms);</li>
 *   <li>{@link #getClean}: the same GET when nothing is dirty: a scan of the bitmap (target ≥ 10 GB/s of
 *       bitmap, i.e. ≤ 3.3 µs for 32 KiB); {@link #getClean64GiB} the same on a 64 GiB slot (2 MiB of
 *       bitmap, no memory touched), where fixed costs no longer matter;</li>
 *   <li>{@link #redirtyProtectedPage}: a guest store to a page GET has just write-protected: EPT
 *       violation, fast path (one CAS), dirty bit, back into the guest, the store (target ≤ 300 ns).</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class DirtyLogBenchmark {
    static final long GPA = 0x1_0000_0000L;
    static final long SLOT_BYTES = 1L << 30;
    static final long PAGES = SLOT_BYTES >>> 12;
    /** 1% of the slot's pages. */
    static final int ONE_PERCENT = (int) (PAGES / 100);
    /** Pages re-dirtied per invocation of {@link #redirtyProtectedPage}. */
    static final int REDIRTY = 4096;

    private EngineVm vm;
    private Vcpu vcpu;
    private final long[] bitmap = new long[(int) (PAGES / 64)];
    private final long[] onePercent = new long[ONE_PERCENT];
    private EngineVm big;
    private final long[] bigBitmap = new long[(int) ((64L << 30) >>> 12) / 64];

    private final GuestCode dirtyOnePercent = g -> {
        for (long gpa : onePercent) {
            g.write64(gpa, gpa);
        }
    };
    private final GuestCode redirty = g -> {
        for (long p = 0; p < REDIRTY; p++) {
            g.write64(GPA + (p << 12), p);
        }
    };

    @Setup(Level.Trial)
    public void setUp() {
        vm = EngineVm.create(VmType.DEFAULT, MemslotImpl.TREE);
        long hva = vm.host().mmap(SLOT_BYTES);
        check(vm.setUserMemoryRegion(1, MemslotFlags.LOG_DIRTY_PAGES, GPA, SLOT_BYTES, hva));
        vcpu = vm.vcpu(0);
        vcpu.run(g -> {
            for (long p = 0; p < PAGES; p++) {
                g.write64(GPA + (p << 12), p); // every page mapped writable (and logged)
            }
        });
        SplittableRandom random = new SplittableRandom(1);
        for (int i = 0; i < ONE_PERCENT; i++) {
            onePercent[i] = GPA + (random.nextLong(PAGES) << 12);
        }
        check(vm.getDirtyLog(1, bitmap)); // everything reaped and write-protected
        big = EngineVm.create(VmType.DEFAULT, MemslotImpl.TREE);
        long bigHva = big.host().mmap(64L << 30);
        check(big.setUserMemoryRegion(1, MemslotFlags.LOG_DIRTY_PAGES, GPA, 64L << 30, bigHva));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        vm.close();
        big.close();
    }

    /** Dirties 1% of the pages for {@link #getOnePercentDirty} (fast-path faults, not measured). */
    @State(Scope.Thread)
    public static class OnePercentDirty {
        @Setup(Level.Invocation)
        public void dirty(DirtyLogBenchmark b) {
            b.vcpu.run(b.dirtyOnePercent);
        }
    }

    /** Write-protects the first {@link #REDIRTY} pages again for {@link #redirtyProtectedPage}. */
    @State(Scope.Thread)
    public static class Protected {
        @Setup(Level.Invocation)
        public void protect(DirtyLogBenchmark b) {
            check(b.vm.getDirtyLog(1, b.bitmap));
        }
    }

    @Benchmark
    public long getOnePercentDirty(OnePercentDirty dirty) {
        check(vm.getDirtyLog(1, bitmap));
        return bitmap[0];
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

    @Benchmark
    @OperationsPerInvocation(REDIRTY)
    public void redirtyProtectedPage(Protected p) {
        vcpu.run(redirty);
    }

    private static void check(int errno) {
        if (errno != 0) {
            throw new IllegalStateException("errno " + errno);
        }
    }
}
