package dev.guestmem.bench;

import dev.guestmem.host.Advice;
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
 * The first touch of a 4 KiB guest page: a guest store to a page never accessed before, so the TLB
 * misses, the walk finds no SPTE, the fault resolves the host page (GUP), installs the SPTE (and any
 * missing page table), the walk is retried, and the store makes the kernel populate the anonymous page.
 * Each invocation touches the next page of a 4 GiB slot; before each iteration the slot's memory is
 * discarded ({@code MADV_DONTNEED}, which also zaps the SPTEs), so every measured store is a first touch.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 100, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 10, time = 100, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class FirstTouchFaultBenchmark extends OneSlotVm {
    private static final long SIZE = 4L << 30;

    @Override
    long size() {
        return SIZE;
    }

    @Setup(Level.Iteration)
    public void discard() {
        if (vm.host().madvise(hva, SIZE, Advice.DONTNEED) != 0) {
            throw new IllegalStateException("madvise");
        }
        next = 0;
    }

    @Benchmark
    public Access firstTouchStore() {
        return storeToNextPage();
    }

    /**
     * Baseline: the host's own first store to each page ({@code HostMemory.write64}, no MMU), i.e. what
     * the kernel's anonymous-page population costs on this machine.
     */
    @Benchmark
    public long hostFirstTouchBaseline() {
        long off = nextOffset();
        vm.host().write64(hva + off, off);
        return off;
    }
}
