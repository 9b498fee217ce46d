package dev.guestmem.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.fuzz.ExclusionRule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FuzzCommandTest {
    @TempDir
    Path dir;

    @Test
    void theSameSeedWritesTheSameTrace() {
        CliRun first = CliRun.of("fuzz", "--seed", "3", "--ops", "30");
        CliRun again = CliRun.of("fuzz", "--seed", "3", "--ops", "30");
        assertEquals(ExitCode.OK, first.exitCode(), first.err());
        assertEquals(first.out(), again.out());
        assertEquals("# guestmem fuzz --seed 3 --ops 30 --bad-ratio 0.2", first.outLines().get(0));
        assertEquals(31, first.outLines().size());
        assertNotEquals(first.out(), CliRun.of("fuzz", "--seed", "4", "--ops", "30").out());
        assertNotEquals(first.out(), CliRun.of("fuzz", "--seed", "3", "--ops", "30", "--bad-ratio", "0.9").out());
    }

    @Test
    void outWritesTheSameTraceToAFileWhichRunReplaysToTheEnd() throws IOException {
        Path trace = dir.resolve("t.gmt");
        CliRun fuzz = CliRun.of("fuzz", "--seed", "11", "--ops", "40", "--out", trace.toString());
        assertEquals(ExitCode.OK, fuzz.exitCode(), fuzz.err());
        assertEquals("", fuzz.out());
        assertEquals(CliRun.of("fuzz", "--seed", "11", "--ops", "40").out(), Files.readString(trace));

        CliRun run = CliRun.of("run", trace.toString());
        assertEquals(ExitCode.OK, run.exitCode(), run.err());
        assertEquals(40, run.outLines().size());
    }

    @Test
    void withoutASeedTheHeaderNamesTheOneChosen() {
        CliRun random = CliRun.of("fuzz", "--ops", "20");
        assertEquals(ExitCode.OK, random.exitCode(), random.err());
        String seed = random.outLines().get(0).split(" ")[4]; // # guestmem fuzz --seed N
        CliRun again = CliRun.of("fuzz", "--seed", seed, "--ops", "20");
        assertEquals(random.out(), again.out(), again.err());
    }

    @Test
    void badNumbersAreUsageErrors() {
        for (List<String> args : List.of(List.of("--ops", "-1"), List.of("--bad-ratio", "1.5"),
                List.of("--bad-ratio", "-0.1"), List.of("--seed", "x"))) {
            CliRun run = CliRun.of(Stream.concat(Stream.of("fuzz"), args.stream()).toArray(String[]::new));
            assertEquals(ExitCode.USAGE, run.exitCode(), args.toString());
            assertTrue(run.err().contains(args.get(0)), run.err());
            assertEquals("", run.out());
        }
    }

    @Test
    void unwritableOutIsAUsageError() {
        Path missingDir = dir.resolve("no/such/dir/t.gmt");
        CliRun run = CliRun.of("fuzz", "--seed", "1", "--out", missingDir.toString());
        assertEquals(ExitCode.USAGE, run.exitCode());
        assertTrue(run.err().contains(missingDir.toString()), run.err());
    }

    @Test
    void rulesAreListedWithTheirReasons() {
        CliRun run = CliRun.of("fuzz", "--rules");
        assertEquals(ExitCode.OK, run.exitCode());
        for (ExclusionRule rule : ExclusionRule.values()) {
            assertTrue(run.out().contains(rule + ": " + rule.summary()), rule + " missing:\n" + run.out());
            assertTrue(run.out().contains(rule.reason()), run.out());
        }
    }
}
