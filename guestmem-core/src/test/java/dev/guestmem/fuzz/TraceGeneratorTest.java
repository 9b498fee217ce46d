package dev.guestmem.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.trace.OpKind;
import dev.guestmem.trace.PendingOps;
import dev.guestmem.trace.Trace;
import dev.guestmem.trace.TraceException;
import dev.guestmem.trace.TraceOp;
import dev.guestmem.trace.TraceParser;
import dev.guestmem.trace.TraceReplayer;
import dev.guestmem.trace.TraceUsageException;
import dev.guestmem.trace.VmFactory;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The generator: deterministic, only valid lines, the exclusion rules, the pending-ops gate, variety. */
class TraceGeneratorTest {
    private static final int SEEDS = 400;
    private static final double[] BAD_RATIOS = {0.0, 0.2, 0.5, 1.0};

    private static FuzzOptions options(long seed, boolean everything) {
        double ratio = BAD_RATIOS[(int) (seed % BAD_RATIOS.length)];
        int ops = 10 + (int) (seed % 60);
        return everything ? FuzzOptions.everything(ops, ratio) : FuzzOptions.replayable(ops, ratio);
    }

    private static Trace parse(long seed, List<String> lines) {
        try {
            return TraceParser.parse("seed-" + seed + ".gmt", String.join("\n", lines));
        } catch (TraceUsageException e) {
            return fail("seed " + seed + " wrote an unparsable line: " + e.getMessage() + "\n" + String.join("\n", lines));
        }
    }

    @Test
    void sameSeedAndOptionsGiveTheSameTrace() {
        for (long seed : new long[] {0, 1, 42, -7, Long.MAX_VALUE}) {
            FuzzOptions options = FuzzOptions.everything(80, 0.3);
            assertEquals(TraceGenerator.lines(seed, options), TraceGenerator.lines(seed, options), "seed " + seed);
            assertEquals(TraceGenerator.text(seed, options), TraceGenerator.text(seed, options));
        }
        assertNotEquals(TraceGenerator.lines(1, FuzzOptions.everything(80, 0.3)),
                TraceGenerator.lines(2, FuzzOptions.everything(80, 0.3)));
    }

    @Test
    void headerNamesTheSeedAndOptionsAndThenComeOpsOperations() {
        FuzzOptions options = FuzzOptions.everything(25, 0.5);
        List<String> lines = TraceGenerator.lines(99, options);
        assertEquals("# guestmem fuzz --seed 99 --ops 25 --bad-ratio 0.5"
                + (options.includesPending() ? " --include-pending" : ""), lines.get(0));
        assertEquals(26, lines.size());
        assertEquals(25, parse(99, lines).ops().size());
        assertEquals(List.of("# guestmem fuzz --seed 5 --ops 0 --bad-ratio 0.0"),
                TraceGenerator.lines(5, FuzzOptions.replayable(0, 0)));
        assertTrue(TraceGenerator.text(5, FuzzOptions.replayable(3, 0)).endsWith("\n"));
    }

    @Test
    void everyGeneratedTraceParsesAndKeepsTheExclusionRules() {
        for (boolean everything : new boolean[] {false, true}) {
            for (long seed = 0; seed < SEEDS; seed++) {
                FuzzOptions options = options(seed, everything);
                List<String> lines = TraceGenerator.lines(seed, options);
                Trace trace = parse(seed, lines);
                assertEquals(options.ops(), trace.ops().size(), "seed " + seed);
                Optional<RuleViolation> violation = RuleChecker.firstViolation(trace);
                if (violation.isPresent()) {
                    fail("seed " + seed + ": " + violation.get().describe() + "\n" + String.join("\n", lines));
                }
                Set<OpKind> kinds = trace.ops().stream().map(TraceOp::kind).collect(Collectors.toSet());
                assertTrue(options.kinds().containsAll(kinds), "seed " + seed + " wrote " + kinds);
            }
        }
    }

    /**
     * The generator meets rule SHADOW_MMU_PREFETCH and keeps it by storing where it meant to load: in some
     * traces a store, turned back into a load of the same word, breaks the rule there.
     */
    @Test
    void loadsTheShadowMmuPrefetchRuleForbidsBecomeStores() {
        int traces = 0;
        for (long seed = 0; seed < SEEDS / 2; seed++) {
            List<String> lines = TraceGenerator.lines(seed, FuzzOptions.replayable(120, 0.2));
            if (aStoreWasALoadTheRuleForbids(seed, lines)) {
                traces++;
            }
        }
        assertTrue(traces >= 5, "only " + traces + " traces met the rule");
    }

    private static boolean aStoreWasALoadTheRuleForbids(long seed, List<String> lines) {
        for (int i = 0; i < lines.size(); i++) {
            String[] words = lines.get(i).split(" ");
            if (!words[0].equals("w")) {
                continue;
            }
            List<String> loading = new ArrayList<>(lines);
            loading.set(i, "r " + words[1]);
            Optional<RuleViolation> violation = RuleChecker.firstViolation(parse(seed, loading));
            if (violation.isPresent() && violation.get().rule() == ExclusionRule.SHADOW_MMU_PREFETCH
                    && violation.get().op().source().line() == i + 1) {
                return true;
            }
        }
        return false;
    }

    @Test
    void replayableOptionsLeaveOutExactlyThePendingOperations() {
        Set<OpKind> expected = EnumSet.copyOf(FuzzOptions.GENERATED);
        expected.removeIf(kind -> !PendingOps.isImplemented(kind));
        assertEquals(expected, FuzzOptions.replayable(10, 0).kinds());
        assertFalse(FuzzOptions.replayable(10, 0).includesPending());
        assertEquals(FuzzOptions.GENERATED, FuzzOptions.everything(10, 0).kinds());
    }

    /** Names are bound when used, so a replay never stops with a usage error; nothing is pending. */
    @Test
    void replayableTracesReplayToTheEndOnTheEngine() {
        TraceReplayer replayer = new TraceReplayer(VmFactory.engine(), MemslotImpl.TREE);
        for (long seed = 0; seed < SEEDS / 2; seed++) {
            FuzzOptions options = options(seed, false);
            List<String> lines = TraceGenerator.lines(seed, options);
            try {
                assertEquals(options.ops(), replayer.replay(parse(seed, lines)).size(), "seed " + seed);
            } catch (TraceException e) {
                fail("seed " + seed + " stopped: " + e.getMessage() + "\n" + String.join("\n", lines));
            }
        }
    }

    @Test
    void everythingOptionsWriteEveryGeneratedKind() {
        Set<OpKind> written = EnumSet.noneOf(OpKind.class);
        for (long seed = 0; seed < 50; seed++) {
            TraceParser.parse("t.gmt", TraceGenerator.text(seed, FuzzOptions.everything(60, 0.3))).ops()
                    .forEach(op -> written.add(op.kind()));
        }
        assertEquals(FuzzOptions.GENERATED, written);
    }

    /** The traces reach the outcomes that matter on the engine, not just errors or just successes. */
    @Test
    void replaysReachEveryKindOfOutcome() {
        Map<String, Integer> outcomes = new TreeMap<>();
        TraceReplayer replayer = new TraceReplayer(VmFactory.engine(), MemslotImpl.ARRAY);
        for (long seed = 0; seed < 150; seed++) {
            replayer.replay(parse(seed, TraceGenerator.lines(seed, FuzzOptions.replayable(40, 0.2))),
                    (op, line) -> outcomes.merge(op.kind().keyword() + " " + outcome(line), 1, Integer::sum));
        }
        for (String expected : List.of("region ok", "region err EINVAL", "region err EEXIST", "region2 ok",
                "region2 err EBADF", "w ok", "w mmio", "w efault", "r value", "r zero", "r mmio", "r efault",
                "mmap ok", "mmap err ENOMEM", "mmap err EINVAL", "munmap ok", "madvise ok", "madvise err EINVAL",
                "mprotect ok", "hw ok", "hw err EFAULT", "hr zero")) {
            assertTrue(outcomes.containsKey(expected), expected + " never happened: " + outcomes);
        }
    }

    private static String outcome(String line) {
        if (line.startsWith("val ")) {
            return line.equals("val 0x0") ? "zero" : "value";
        }
        return line;
    }

    @Test
    void theBadRatioTurnsLinesIntoErrors() {
        TraceReplayer replayer = new TraceReplayer(VmFactory.engine(), MemslotImpl.TREE);
        long[] errors = new long[2];
        double[] ratios = {0.0, 1.0};
        for (int i = 0; i < ratios.length; i++) {
            for (long seed = 0; seed < 40; seed++) {
                errors[i] += replayer.replay(parse(seed, TraceGenerator.lines(seed, FuzzOptions.replayable(40,
                        ratios[i])))).stream().filter(l -> l.startsWith("err ")).count();
            }
        }
        assertTrue(errors[1] > 2 * errors[0], "errors with ratio 0: " + errors[0] + ", with ratio 1: " + errors[1]);
    }

    @Test
    void optionsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> FuzzOptions.replayable(-1, 0));
        assertThrows(IllegalArgumentException.class, () -> FuzzOptions.replayable(1, 1.5));
        assertThrows(IllegalArgumentException.class, () -> FuzzOptions.replayable(1, Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> new FuzzOptions(1, 0, Set.of(OpKind.ATTRS)));
        // A load the rules forbid is written as a store, so loads come with stores.
        assertThrows(IllegalArgumentException.class, () -> new FuzzOptions(1, 0, Set.of(OpKind.GUEST_READ)));
        assertEquals(Set.of(OpKind.GUEST_WRITE), new FuzzOptions(1, 0, Set.of(OpKind.GUEST_WRITE)).kinds());
    }
}
