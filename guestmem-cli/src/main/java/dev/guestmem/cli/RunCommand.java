package dev.guestmem.cli;

import dev.guestmem.trace.Trace;
import dev.guestmem.trace.TraceException;
import dev.guestmem.trace.TraceParser;
import dev.guestmem.trace.TraceReplayer;
import dev.guestmem.trace.VmFactory;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code guestmem run}: replays traces, one result line per operation. A trace that cannot be replayed
 * to its end (malformed, undefined name, operation not built yet, unreadable) is reported on stderr and
 * the next file still runs; the exit status is the worst one seen.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Replays each .gmt trace on a fresh VM and prints one result line per operation.",
            "With several files, a '== FILE' line precedes each file's output."})
public final class RunCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Mixin
    private ImplOption implOption;

    @Option(names = "--check",
            description = "Compare each trace's output with FILE.expected (same base name): print 'PASS FILE', "
                    + "or 'FAIL FILE' and a unified diff (exit status 1).")
    private boolean check;

    @Parameters(paramLabel = "FILE", arity = "1..*", description = "Trace files (.gmt).")
    private List<Path> files;

    @Override
    public Integer call() {
        TraceReplayer replayer = new TraceReplayer(VmFactory.engine(), implOption.impl());
        int status = ExitCode.OK;
        for (Path file : files) {
            status = Math.max(status, runOne(replayer, file));
        }
        return status;
    }

    private int runOne(TraceReplayer replayer, Path file) {
        PrintWriter out = spec.commandLine().getOut();
        try {
            if (check) {
                return check(replayer, file, out);
            }
            if (files.size() > 1) {
                out.println("== " + file);
            }
            Trace trace = TraceParser.parse(file);
            replayer.replay(trace, (op, result) -> out.println(result));
            return ExitCode.OK;
        } catch (TraceException | IOException e) {
            out.flush();
            PrintWriter err = spec.commandLine().getErr();
            err.println(GuestmemCommand.describe(e));
            err.flush();
            return ExitCode.USAGE;
        } finally {
            out.flush();
        }
    }

    private int check(TraceReplayer replayer, Path file, PrintWriter out) throws IOException {
        Path expectedFile = ExpectedOutput.pathFor(file);
        Trace trace = TraceParser.parse(file);
        List<String> expected = Files.readAllLines(expectedFile, StandardCharsets.UTF_8);
        List<String> actual = replayer.replay(trace);
        List<String> diff = ExpectedOutput.unifiedDiff(expectedFile.toString(), expected,
                file + " (--impl " + replayer.memslotImpl().name().toLowerCase(Locale.ROOT) + ")", actual);
        if (diff.isEmpty()) {
            out.println("PASS " + file);
            return ExitCode.OK;
        }
        out.println("FAIL " + file);
        diff.forEach(out::println);
        return ExitCode.MISMATCH;
    }
}
