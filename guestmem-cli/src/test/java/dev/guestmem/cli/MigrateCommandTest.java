package dev.guestmem.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class MigrateCommandTest {
    @Test
    void aSmallMigrationVerifiesAndPrintsTheSummary() {
        CliRun run = CliRun.of("migrate", "--memory", "16M", "--slots", "2", "--mode", "ring", "--write-rate", "50k",
                "--no-progress");
        assertEquals(ExitCode.OK, run.exitCode(), run.err());
        List<String> lines = run.outLines();
        assertTrue(lines.getFirst().startsWith("migrating 16.0 MiB in 2 memslots, 2 vCPUs storing 50000 times/s"),
                lines.getFirst());
        assertTrue(lines.stream().anyMatch(l -> l.matches("round 0 \\(all\\) +4096 +4096 +0 +[0-9.]+ ms")), run.out());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("stop-and-copy")), run.out());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("verified:    16777216 bytes identical")), run.out());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("downtime:")), run.out());
    }

    @Test
    void chaosIsReportedAndStillVerifies() {
        CliRun run = CliRun.of("migrate", "--memory", "16M", "--chaos", "--mode", "bitmap", "--no-progress");
        assertEquals(ExitCode.OK, run.exitCode(), run.err());
        assertTrue(run.out().contains("memslot 4 moved from 0x"), run.out());
        assertTrue(run.out().contains("madvise DONTNEED"), run.out());
    }

    @Test
    void badOptionsAreUsageErrors() {
        assertEquals(ExitCode.USAGE, CliRun.of("migrate", "--mode", "psychic").exitCode());
        assertEquals(ExitCode.USAGE, CliRun.of("migrate", "--memory", "3M").exitCode(), "not a multiple of 4 x 2 MiB");
        assertEquals(ExitCode.USAGE, CliRun.of("migrate", "--write-rate", "fast").exitCode());
    }

    @Test
    void quantitiesTakeSuffixes() {
        assertEquals(256L << 20, Quantities.bytes("256M"));
        assertEquals(1L << 30, Quantities.bytes("1GiB"));
        assertEquals(4096, Quantities.bytes("4096"));
        assertEquals(200_000, Quantities.count("200k"));
        assertEquals("1.5 GiB", Quantities.formatBytes(1.5 * (1L << 30)));
    }
}
