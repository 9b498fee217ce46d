package dev.guestmem.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class PerfDirtyLogCommandTest {
    @Test
    void printsTheSelftestsTimesForEveryIteration() {
        CliRun run = CliRun.of("perf", "dirty-log", "-v", "2", "-b", "4M", "-x", "2", "-i", "3");
        assertEquals(ExitCode.OK, run.exitCode(), run.err());
        List<String> lines = run.outLines();
        assertTrue(lines.getFirst().contains("2 vCPU(s), 4.0 MiB per vCPU, 2 memslot(s), 3 iterations"), run.out());
        assertTrue(lines.stream().anyMatch(l -> l.matches("Populate memory time: \\d+\\.\\d{9}s")), run.out());
        assertEquals(3, lines.stream().filter(l -> l.matches("Iteration \\d dirty memory time: .*")).count(), run.out());
        assertEquals(3, lines.stream().filter(l -> l.matches("Iteration \\d clear dirty log time: .*")).count(), run.out());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("Get dirty log over 3 iterations took")), run.out());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("Clear dirty log over 3 iterations took")), run.out());
    }

    @Test
    void withoutManualProtectThereIsNoClear() {
        CliRun run = CliRun.of("perf", "dirty-log", "-b", "2M", "-g");
        assertEquals(ExitCode.OK, run.exitCode(), run.err());
        assertTrue(run.out().contains("manual protect off"), run.out());
        assertTrue(run.outLines().stream().noneMatch(l -> l.contains("clear")), run.out());
    }

    @Test
    void theSelftestsRulesAreUsageErrors() {
        CliRun fewIterations = CliRun.of("perf", "dirty-log", "-b", "2M", "-i", "1");
        assertEquals(ExitCode.USAGE, fewIterations.exitCode());
        assertTrue(fewIterations.err().contains("iterations must be at least 2"), fewIterations.err());
        CliRun uneven = CliRun.of("perf", "dirty-log", "-b", "4M", "-x", "3");
        assertEquals(ExitCode.USAGE, uneven.exitCode());
        assertTrue(uneven.err().contains("must divide evenly over 3 memslots"), uneven.err());
    }
}
