package dev.guestmem.kvm;

import dev.guestmem.fuzz.Backend;
import dev.guestmem.fuzz.Comparison;
import dev.guestmem.fuzz.DifferentialReplayer;
import dev.guestmem.fuzz.FuzzOptions;
import dev.guestmem.fuzz.RuleChecker;
import dev.guestmem.fuzz.TraceGenerator;
import dev.guestmem.fuzz.TraceShrinker;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.trace.OpKind;
import dev.guestmem.trace.Trace;
import dev.guestmem.trace.TraceParser;
import dev.guestmem.trace.TraceUsageException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.LongFunction;
import java.util.stream.Collectors;

/**
 * Replays generated traces on two backends and collects every divergence, each cut down to a minimal
 * trace that still diverges at the same kind of operation. Seeds alternate the memslot design.
 */
final class FuzzCampaign {
    /** One seed's divergence: where it happened, and the smallest trace found that shows it. */
    record Finding(long seed, FuzzOptions options, MemslotImpl impl, Comparison.Divergence divergence,
            List<String> minimal, Comparison.Divergence minimalDivergence, String firstName, String secondName) {
        String describe() {
            return "seed " + seed + " (--ops " + options.ops() + " --bad-ratio " + options.badRatio() + ", --impl "
                    + impl.name().toLowerCase(Locale.ROOT) + "): line " + divergence.op().source().line()
                    + " '" + divergence.op().source().text() + "': " + firstName + ": " + divergence.first() + ", "
                    + secondName + ": " + divergence.second() + "\n  minimal trace:\n"
                    + minimal.stream().map(l -> "    " + l).collect(Collectors.joining("\n"))
                    + "\n  -> at '" + minimalDivergence.op().source().text() + "': " + firstName + ": "
                    + minimalDivergence.first() + ", " + secondName + ": " + minimalDivergence.second();
        }
    }

    /** What a campaign did. */
    record Summary(int traces, long operationsCompared, List<Finding> findings, Duration elapsed) {
    }

    private final Backend first;
    private final Backend second;

    FuzzCampaign(Backend first, Backend second) {
        this.first = first;
        this.second = second;
    }

    Summary run(List<Long> seeds, LongFunction<FuzzOptions> options) {
        long start = System.nanoTime();
        List<Finding> findings = new ArrayList<>();
        long compared = 0;
        for (long seed : seeds) {
            FuzzOptions opts = options.apply(seed);
            MemslotImpl impl = MemslotImpl.values()[(int) Math.floorMod(seed, MemslotImpl.values().length)];
            DifferentialReplayer replayer = new DifferentialReplayer(first, second, impl);
            List<String> lines = TraceGenerator.lines(seed, opts);
            Comparison comparison = replayer.compare(TraceParser.parse("seed-" + seed + ".gmt", String.join("\n", lines)));
            compared += comparison.agreed().size();
            if (comparison instanceof Comparison.Divergence d) {
                findings.add(shrink(seed, opts, impl, replayer, lines, d));
            }
        }
        return new Summary(seeds.size(), compared, findings, Duration.ofNanos(System.nanoTime() - start));
    }

    private Finding shrink(long seed, FuzzOptions opts, MemslotImpl impl, DifferentialReplayer replayer,
            List<String> lines, Comparison.Divergence divergence) {
        OpKind kind = divergence.op().kind();
        List<String> minimal = TraceShrinker.shrink(lines, candidate -> divergesAt(replayer, candidate, kind));
        Comparison.Divergence minimalDivergence = (Comparison.Divergence) replayer.compare(parse(minimal));
        return new Finding(seed, opts, impl, divergence, minimal, minimalDivergence, first.name(), second.name());
    }

    /**
     * Whether {@code lines} diverge at an operation of {@code kind}. Texts that do not parse or break a
     * rule do not count: a shrunk trace must stay one the backends are expected to agree on.
     */
    private static boolean divergesAt(DifferentialReplayer replayer, List<String> lines, OpKind kind) {
        try {
            Trace trace = parse(lines);
            return RuleChecker.firstViolation(trace).isEmpty()
                    && replayer.compare(trace) instanceof Comparison.Divergence d && d.op().kind() == kind;
        } catch (TraceUsageException e) {
            return false;
        }
    }

    private static Trace parse(List<String> lines) {
        return TraceParser.parse("minimal.gmt", String.join("\n", lines));
    }
}
