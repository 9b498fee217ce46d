package dev.guestmem.kvm;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.fuzz.Backend;
import dev.guestmem.fuzz.FuzzOptions;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * The differential property: generated traces print the same lines on the engine and on the kernel.
 * Fixed seeds, so a run is reproducible, plus one random seed per run, printed (rerun it with
 * {@code -Dguestmem.fuzz.seed=N}). Both memslot designs, bad ratios from 0 to 0.6, 20 to 150 operations
 * of every kind the replayer implements, dirty logs included, under the exclusion rules only. Each
 * divergence is reported with a minimal trace. Skipped without {@code /dev/kvm}.
 */
class DifferentialFuzzTest {
    private static final int FIXED_SEEDS = 400;
    private static final double[] BAD_RATIOS = {0.0, 0.15, 0.3, 0.6};

    /** The trace shape of {@code seed}: its length and bad ratio; every replayable kind. */
    static FuzzOptions options(long seed) {
        int ops = 20 + Math.floorMod(seed, 131);
        double badRatio = BAD_RATIOS[Math.floorMod(seed, BAD_RATIOS.length)];
        return FuzzOptions.replayable(ops, badRatio);
    }

    @Test
    void generatedTracesPrintTheSameLinesOnTheEngineAndTheKernel() {
        KvmAssumptions.assumeKvm("DifferentialFuzzTest");
        String property = System.getProperty("guestmem.fuzz.seed", "");
        long randomSeed = property.isBlank() ? ThreadLocalRandom.current().nextLong() : Long.parseLong(property);
        System.out.println("DifferentialFuzzTest: random seed " + randomSeed
                + " (rerun with -Dguestmem.fuzz.seed=" + randomSeed + ")");
        // A longer campaign: -Dguestmem.fuzz.from=N -Dguestmem.fuzz.count=M replays seeds N..N+M-1 instead.
        long from = Long.getLong("guestmem.fuzz.from", 0);
        long count = Long.getLong("guestmem.fuzz.count", FIXED_SEEDS);
        List<Long> seeds = LongStream.concat(LongStream.range(from, from + count), LongStream.of(randomSeed))
                .boxed().toList();

        FuzzCampaign.Summary summary = new FuzzCampaign(Backend.engine(), new Backend("kvm", new KvmVmFactory()))
                .run(seeds, DifferentialFuzzTest::options);

        System.out.printf("DifferentialFuzzTest: %d traces, %d result lines compared, %d divergences, %.1f s%n",
                summary.traces(), summary.operationsCompared(), summary.findings().size(),
                summary.elapsed().toMillis() / 1000.0);
        assertTrue(summary.operationsCompared() > 10L * FIXED_SEEDS, "too little was compared: " + summary);
        assertTrue(summary.findings().isEmpty(), summary.findings().size() + " divergences:\n"
                + summary.findings().stream().map(FuzzCampaign.Finding::describe).collect(Collectors.joining("\n")));
        assertFalse(summary.elapsed().toSeconds() > 120, "took " + summary.elapsed());
    }
}
