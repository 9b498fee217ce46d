package dev.guestmem.cli;

import dev.guestmem.fuzz.ExclusionRule;
import dev.guestmem.fuzz.FuzzOptions;
import dev.guestmem.fuzz.TraceGenerator;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code guestmem fuzz}: writes a random trace, the same one for the same seed. */
@Command(name = "fuzz", mixinStandardHelpOptions = true,
        description = {"Writes a random .gmt trace: host mappings, memslot layouts valid-looking and",
            "deliberately bad (overlaps, misalignment, wrap-arounds, moves, flag toggles, deletes,",
            "slot ids at the limits), guest and host accesses, dirty logs. The same seed and options",
            "give the same trace. It keeps the rules under which the engine and the kernel must agree",
            "(--rules) and, unless --include-pending, uses only operations the replayer implements.",
            "Try: guestmem fuzz --seed 1 --out t.gmt && guestmem run --backend both t.gmt"})
public final class FuzzCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--seed", paramLabel = "N",
            description = "Seed of the trace (default: a random one, named in the trace's first line).")
    private Long seed;

    @Option(names = "--ops", paramLabel = "M", defaultValue = "50",
            description = "Number of operations (default: ${DEFAULT-VALUE}).")
    private int ops;

    @Option(names = "--bad-ratio", paramLabel = "R", defaultValue = "0.2",
            description = "Share of operations written to be refused, 0 to 1 (default: ${DEFAULT-VALUE}).")
    private double badRatio;

    @Option(names = "--out", paramLabel = "FILE", description = "Write the trace to FILE instead of stdout.")
    private Path out;

    @Option(names = "--include-pending",
            description = "Also use operations the replayer does not implement yet (none at present).")
    private boolean includePending;

    @Option(names = "--rules", description = "List the rules generated traces keep, and why, then exit.")
    private boolean rules;

    @Override
    public Integer call() throws IOException {
        PrintWriter stdout = spec.commandLine().getOut();
        if (rules) {
            for (ExclusionRule rule : ExclusionRule.values()) {
                stdout.println(rule + ": " + rule.summary() + "\n    " + rule.reason());
            }
            stdout.flush();
            return ExitCode.OK;
        }
        FuzzOptions options = options();
        long actualSeed = seed != null ? seed : ThreadLocalRandom.current().nextLong();
        String text = TraceGenerator.text(actualSeed, options);
        if (out == null) {
            stdout.print(text);
            stdout.flush();
        } else {
            Files.writeString(out, text, StandardCharsets.UTF_8);
        }
        return ExitCode.OK;
    }

    private FuzzOptions options() {
        if (ops < 0) {
            throw new ParameterException(spec.commandLine(), "--ops must not be negative: " + ops);
        }
        if (!(badRatio >= 0 && badRatio <= 1)) {
            throw new ParameterException(spec.commandLine(), "--bad-ratio must lie between 0 and 1: " + badRatio);
        }
        return includePending ? FuzzOptions.everything(ops, badRatio) : FuzzOptions.replayable(ops, badRatio);
    }
}
