package dev.guestmem.cli;

import dev.guestmem.kvm.KvmException;
import dev.guestmem.trace.ReplayListener;
import dev.guestmem.trace.Trace;
import dev.guestmem.trace.TraceException;
import dev.guestmem.trace.TraceParser;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
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

    @Mixin
    private BackendOption backendOption;

    @Option(names = "--check",
            description = "Compare each trace's output with FILE.expected (same base name): print 'PASS FILE', "
                    + "or 'FAIL FILE' and a unified diff (exit status 1).")
    private boolean check;

    @Option(names = "--stats",
            description = "After each trace, print the engine VM's MMU statistics to stderr as '# stat NAME VALUE' "
                    + "lines (engine backend only).")
    private boolean stats;

    @Parameters(paramLabel = "FILE", arity = "1..*", description = "Trace files (.gmt).")
    private List<Path> files;

    private final Backends backends;

    /** Replays on the engine and the real {@code /dev/kvm}. */
    public RunCommand() {
        this(Backends.system());
    }

    /** Replays with {@code backends}; tests put a deliberately different engine in the kernel's place. */
    RunCommand(Backends backends) {
        this.backends = backends;
    }

    @Override
    public Integer call() {
        Optional<String> problem = stats && backendOption.choice() != BackendChoice.ENGINE
                ? Optional.of("--stats needs --backend engine: only the engine keeps MMU statistics")
                : backends.problem(backendOption.choice());
        if (problem.isPresent()) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("guestmem: " + problem.get());
            err.flush();
            return ExitCode.USAGE;
        }
        TraceRunner replayer = stats ? new StatsRunner(implOption.impl(), spec.commandLine().getErr())
                : backends.runner(backendOption.choice(), implOption.impl());
        int status = ExitCode.OK;
        for (Path file : files) {
            status = Math.max(status, runOne(replayer, file));
        }
        return status;
    }

    private int runOne(TraceRunner replayer, Path file) {
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
        } catch (DivergenceException d) {
            d.report().forEach(out::println);
            return ExitCode.MISMATCH;
        } catch (TraceException | IOException | KvmException e) {
            out.flush();
            PrintWriter err = spec.commandLine().getErr();
            err.println(GuestmemCommand.describe(e));
            err.flush();
            return ExitCode.USAGE;
        } finally {
            out.flush();
        }
    }

    private int check(TraceRunner replayer, Path file, PrintWriter out) throws IOException {
        Path expectedFile = ExpectedOutput.pathFor(file);
        Trace trace = TraceParser.parse(file);
        List<String> expected = Files.readAllLines(expectedFile, StandardCharsets.UTF_8);
        List<String> actual = replayer.replay(trace, ReplayListener.none());
        List<String> diff = ExpectedOutput.unifiedDiff(expectedFile.toString(), expected,
                file + " (" + replayer.label() + ")", actual);
        if (diff.isEmpty()) {
            out.println("PASS " + file);
            return ExitCode.OK;
        }
        out.println("FAIL " + file);
        diff.forEach(out::println);
        return ExitCode.MISMATCH;
    }
}
