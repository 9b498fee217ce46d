package dev.guestmem.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.guestmem.trace.PendingOps;
import dev.guestmem.trace.Trace;
import dev.guestmem.trace.TraceOp;
import dev.guestmem.trace.TraceParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * {@code run --check} over the whole kernel-answered corpus at once: every trace is reported (a
 * trace that stops does not hide the ones after it), pending operations are named on stderr, and the
 * exit status is the worst seen. Whether each trace matches is the core corpus test's business.
 */
class CorpusCheckTest {
    private static Optional<Path> tracesDir() {
        String property = System.getProperty("guestmem.shared");
        Path dir = Path.of(property == null || property.isBlank() ? "../../shared" : property, "traces");
        return Files.isDirectory(dir) ? Optional.of(dir) : Optional.empty();
    }

    @Test
    void checkReportsEveryCorpusTrace() throws IOException {
        Optional<Path> dir = tracesDir();
        if (dir.isEmpty()) {
            System.out.println("CorpusCheckTest skipped: no shared/traces directory (set -Dguestmem.shared)");
        }
        assumeTrue(dir.isPresent(), "no shared/traces directory");
        List<Path> traces;
        try (Stream<Path> files = Files.list(dir.get())) {
            traces = files.filter(p -> p.toString().endsWith(".gmt")).sorted().toList();
        }
        List<String> args = new ArrayList<>(List.of("run", "--check"));
        traces.forEach(t -> args.add(t.toString()));
        CliRun run = CliRun.of(args.toArray(String[]::new));

        boolean anyPending = false;
        int passed = 0;
        for (Path file : traces) {
            Trace trace = TraceParser.parse(file);
            Optional<TraceOp> pending = PendingOps.firstPending(trace);
            if (pending.isPresent()) {
                anyPending = true;
                String message = "not implemented yet: " + pending.get().kind().keyword() + " (" + file + ":"
                        + pending.get().source().line() + ")";
                assertTrue(run.err().lines().anyMatch(message::equals), message + " missing from:\n" + run.err());
            } else {
                boolean pass = run.outLines().contains("PASS " + file);
                assertTrue(pass || run.outLines().contains("FAIL " + file), file + " not reported:\n" + run.out());
                passed += pass ? 1 : 0;
            }
        }
        assertTrue(passed > 0, "no corpus trace passes:\n" + run.out());
        int expectedStatus = anyPending ? ExitCode.USAGE
                : run.out().contains("FAIL ") ? ExitCode.MISMATCH : ExitCode.OK;
        assertEquals(expectedStatus, run.exitCode());
    }
}
