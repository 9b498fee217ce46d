package dev.guestmem.bench;

import dev.guestmem.memslot.Memslot;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.memslot.MemslotSet;
import dev.guestmem.memslot.MemslotStore;
import dev.guestmem.memslot.VcpuSlotCache;
import dev.guestmem.sync.Srcu;
import java.util.SplittableRandom;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * gfn → memslot lookup in a set of {@code slots} contiguous slots of {@code pagesPerSlot} pages (the
 * memslot_perf_test layout), one reader thread, for both store designs.
 *
 * <p>Naming: {@code hit*} look up the same gfn every time (the cache holds its slot); {@code miss*} take the
 * next gfn of a precomputed random sequence in which consecutive gfns lie in different slots, so every cache
 * misses and the set is searched. The plain methods measure the lookup alone, as it runs inside a read
 * section that the caller already holds; the {@code *InSrcu} methods enter and leave an SRCU read section
 * around each lookup, which is what one isolated translation costs. {@link #missBaseline} is the cost of
 * picking the next gfn, included in every {@code miss*} figure. Consecutive {@code miss*} calls are
 * independent (the CPU may overlap them) except in {@link #missSearchChained}, where each waits for the
 * previous result, and in the cache variants, whose probe reads what the previous call stored.
 *
 * <p>The sequence repeats every {@value #MISS_GFNS} lookups, so a branch predictor can learn part of the
 * branches a search takes; {@link #missSearchRandom} draws each gfn from a generator instead, so nothing
 * repeats, and {@link #missBaselineRandom} is what drawing costs.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class MemslotLookupBenchmark {
    /** Length of the random gfn sequence (a power of two). */
    private static final int MISS_GFNS = 1 << 12;

    @Param({"TREE", "ARRAY"})
    public MemslotImpl impl;

    @Param({"10", "509", "32764"})
    public int slots;

    @Param({"4"})
    public int pagesPerSlot;

    private Srcu srcu;
    private MemslotStore store;
    private final VcpuSlotCache cache = new VcpuSlotCache();
    private long hitGfn;
    private long[] missGfns;
    private int next;
    /** The xorshift64 state of {@link #randomGfn}. */
    private long seed = 0x9e37_79b9_7f4a_7c15L;

    @Setup(Level.Trial)
    public void setUp() {
        srcu = new Srcu();
        store = Geometry.emptyStore(impl, srcu);
        Geometry.fill(store, slots, pagesPerSlot);
        MemslotSet set = store.active(0);
        if (set.size() != slots) {
            throw new IllegalStateException("store holds " + set.size() + " slots, expected " + slots);
        }
        // The hit gfn: inside the middle slot, not on its first page when it has more than one.
        int hitId = slots / 2;
        hitGfn = Geometry.BASE_GFN + (long) hitId * pagesPerSlot + (pagesPerSlot - 1) / 2;
        expect(set.search(hitGfn, false), hitId, hitGfn);
        SplittableRandom random = new SplittableRandom(0x5107_7e57L);
        missGfns = new long[MISS_GFNS];
        int previous = -1;
        for (int i = 0; i < MISS_GFNS; i++) {
            int id;
            do {
                id = random.nextInt(slots);
            } while (id == previous && slots > 1);
            previous = id;
            missGfns[i] = Geometry.BASE_GFN + (long) id * pagesPerSlot + random.nextInt(pagesPerSlot);
            expect(set.search(missGfns[i], false), id, missGfns[i]);
        }
        for (int i = 0; i < MISS_GFNS; i++) {
            long gfn = randomGfn();
            expect(set.search(gfn, false), (int) ((gfn - Geometry.BASE_GFN) / pagesPerSlot), gfn);
        }
        // Warm both caches on the hit slot.
        expect(set.lookup(hitGfn), hitId, hitGfn);
        expect(set.lookup(hitGfn, cache), hitId, hitGfn);
    }

    private static void expect(Memslot found, int id, long gfn) {
        if (found == null || found.id() != id) {
            throw new IllegalStateException("gfn 0x" + Long.toHexString(gfn) + " found " + found + ", expected slot " + id);
        }
    }

    private long nextGfn() {
        return missGfns[next++ & (MISS_GFNS - 1)];
    }

    /** (a) {@code __gfn_to_memslot} on the slot it returned last time: the set-wide last-used cache hits. */
    @Benchmark
    public Memslot hitLastUsed() {
        return store.active(0).lookup(hitGfn);
    }

    /** (a) inside its own SRCU read section. */
    @Benchmark
    public Memslot hitLastUsedInSrcu() {
        int token = srcu.readLock();
        try {
            return store.active(0).lookup(hitGfn);
        } finally {
            srcu.readUnlock(token);
        }
    }

    /** (b) {@code kvm_vcpu_gfn_to_memslot} on the slot it returned last time: the vCPU cache hits. */
    @Benchmark
    public Memslot hitVcpuCache() {
        return store.active(0).lookup(hitGfn, cache);
    }

    /** (b) inside its own SRCU read section. */
    @Benchmark
    public Memslot hitVcpuCacheInSrcu() {
        int token = srcu.readLock();
        try {
            return store.active(0).lookup(hitGfn, cache);
        } finally {
            srcu.readUnlock(token);
        }
    }

    /** (c) {@code search_memslots} without caches, a different slot each time. */
    @Benchmark
    public Memslot missSearch() {
        return store.active(0).search(nextGfn(), false);
    }

    /**
     * (c) as {@link #missSearch}, but which gfn comes next depends on the slot just found, so one search
     * cannot overlap the next in the CPU: the latency of a miss rather than the throughput of independent
     * misses. (A slot id is never negative: the step is always 1, known only once the search is done.)
     */
    @Benchmark
    public Memslot missSearchChained() {
        Memslot found = store.active(0).search(missGfns[next & (MISS_GFNS - 1)], false);
        next += 1 + (found.id() >>> 31);
        return found;
    }

    /** (c) {@code kvm_vcpu_gfn_to_memslot}, a different slot each time: probe, search, refill the vCPU cache. */
    @Benchmark
    public Memslot missVcpuCache() {
        return store.active(0).lookup(nextGfn(), cache);
    }

    /** (c) inside its own SRCU read section. */
    @Benchmark
    public Memslot missVcpuCacheInSrcu() {
        int token = srcu.readLock();
        try {
            return store.active(0).lookup(nextGfn(), cache);
        } finally {
            srcu.readUnlock(token);
        }
    }

    /** (c) {@code __gfn_to_memslot}, a different slot each time: probe, search, update the set-wide cache. */
    @Benchmark
    public Memslot missLastUsed() {
        return store.active(0).lookup(nextGfn());
    }

    /**
     * A uniformly random slot and page in it: the high and low halves of an xorshift64 step, each scaled to
     * its range by a multiplication rather than a division.
     */
    private long randomGfn() {
        long x = seed;
        x ^= x << 13;
        x ^= x >>> 7;
        x ^= x << 17;
        seed = x;
        long id = ((x >>> 32) * slots) >>> 32;
        long page = ((x & 0xffff_ffffL) * pagesPerSlot) >>> 32;
        return Geometry.BASE_GFN + id * pagesPerSlot + page;
    }

    /** (c) as {@link #missSearch}, on gfns that never repeat in a pattern. */
    @Benchmark
    public Memslot missSearchRandom() {
        return store.active(0).search(randomGfn(), false);
    }

    /** What drawing a random gfn costs by itself (part of {@link #missSearchRandom}). */
    @Benchmark
    public long missBaselineRandom() {
        return randomGfn();
    }

    /** What picking the next gfn of the sequence costs by itself (part of every {@code miss*} figure). */
    @Benchmark
    public long missBaseline() {
        return nextGfn();
    }
}
