package dev.guestmem.bench;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;

@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 4, time = 1)
@Fork(1)
public class RankProbe {
    static final int CAP = 64;
    @Param({"10", "37", "48"})
    public int count;
    long[][] nodes;
    long[] queries;
    int next;

    @Setup
    public void setUp() {
        SplittableRandom r = new SplittableRandom(7);
        nodes = new long[64][];
        for (int j = 0; j < 64; j++) {
            long[] k = new long[CAP];
            Arrays.fill(k, Long.MAX_VALUE);
            long v = r.nextInt(1000);
            for (int i = 0; i < count; i++) { v += 1 + r.nextInt(8); k[i] = v; }
            nodes[j] = k;
        }
        queries = new long[1 << 20]; pick = new int[1 << 20]; for (int i = 0; i < pick.length; i++) pick[i] = r.nextInt(64);
        for (int i = 0; i < queries.length; i++) queries[i] = r.nextInt((int) (8 * count + 1000));
    }

    int[] pick;
    long[] node() { return nodes[pick[next & ((1 << 20) - 1)]]; }
    long q() { return queries[next++ & ((1 << 20) - 1)]; }

    @Benchmark public int countInt() {
        long[] k = node(); long key = q(); int n = 0;
        for (int i = 0; i < count; i++) n += (int) ((k[i] - key - 1) >>> 63);
        return n;
    }
    @Benchmark public int countFull() {
        long[] k = node(); long key = q(); int n = 0;
        for (int i = 0; i < CAP; i++) n += (int) ((k[i] - key - 1) >>> 63);
        return n;
    }
    @Benchmark public int countFullLong() {
        long[] k = node(); long key = q(); long n = 0;
        for (int i = 0; i < CAP; i++) n += (k[i] - key - 1) >>> 63;
        return (int) n;
    }
    @Benchmark public int countTernary() {
        long[] k = node(); long key = q(); int n = 0;
        for (int i = 0; i < count; i++) n += k[i] <= key ? 1 : 0;
        return n;
    }
    @Benchmark public int scan() {
        long[] k = node(); long key = q(); int n = count; int i = 0;
        while (i < n && k[i] <= key) i++;
        return i;
    }
    @Benchmark public int binary() {
        long[] k = node(); long key = q();
        int r = Arrays.binarySearch(k, 0, count, key);
        return r >= 0 ? r + 1 : -r - 1;
    }
    @Benchmark public int branchless() {
        long[] k = node(); long key = q();
        // rank over padded 64: positions 0..47 real (MAX_VALUE padding), treat >=48 as MAX
        int base = 0;
        int len = count;
        while (len > 1) {
            int half = len >>> 1;
            base = k[base + half - 1] <= key ? base + half : base;
            len -= half;
        }
        return base + (k[base] <= key ? 1 : 0);
    }

    @Benchmark public int countPad8() {
        long[] k = node(); long key = q(); int n = 0; int end = (count + 7) & ~7;
        for (int i = 0; i < end; i++) n += (int) ((k[i] - key - 1) >>> 63);
        return n;
    }
    @Benchmark public int countFull64() {
        long[] k = node(); long key = q(); int n = 0;
        for (int i = 0; i < 64; i++) n += (int) ((k[i] - key - 1) >>> 63);
        return n;
    }
    @Benchmark public int twoStage() {
        long[] k = node(); long key = q(); int b = 0;
        for (int i = 7; i < 47; i += 8) b += (int) ((k[i] - key - 1) >>> 63);
        int base = b << 3; int n = base;
        for (int j = 0; j < 8; j++) n += (int) ((k[base + j] - key - 1) >>> 63);
        return n;
    }
    @Benchmark public int twoStageScan() {
        long[] k = node(); long key = q(); int i = 7;
        while (i < 47 && k[i] <= key) i += 8;
        int j = i - 7;
        while (j < i && k[j] <= key) j++;
        return j;
    }
}
