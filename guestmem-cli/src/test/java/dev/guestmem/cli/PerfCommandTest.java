package dev.guestmem.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PerfCommandTest {
    @TempDir
    Path dir;

    @Test
    void tinyRunPrintsTheSeedShapedTableAndCsvRows() throws IOException {
        Path csv = dir.resolve("perf.csv");
        CliRun run = CliRun.of("perf", "--slots", "10", "--seconds", "0.2", "--tests", "setup,move-inactive",
                "--impl", "tree,array", "--csv", csv.toString(), "--warmup", "0.1", "--no-progress");
        assertEquals(ExitCode.OK, run.exitCode(), run.err());
        List<String> lines = run.outLines();
        assertTrue(lines.contains("| test | 10 array | 10 tree | 10 impr. |"), run.out());
        assertTrue(lines.stream().anyMatch(l -> l.matches("\\| setup \\(total s\\) \\| [0-9.e-]+ \\| [0-9.e-]+ \\| -?\\d+% \\|")),
                run.out());
        assertTrue(lines.stream().anyMatch(l -> l.matches("\\| move-inactive \\(s/it\\) \\| [0-9.e-]+ \\| [0-9.e-]+ \\| -?\\d+% \\|")),
                run.out());

        List<String> rows = Files.readAllLines(csv);
        assertEquals(PerfCsv.HEADER, rows.getFirst());
        assertEquals(5, rows.size(), rows.toString());
        for (String row : rows.subList(1, rows.size())) {
            String[] f = row.split(",");
            assertEquals(5, f.length, row);
            assertEquals("10", f[1], row);
            assertTrue(List.of("tree", "array").contains(f[2]), row);
            assertTrue(Double.parseDouble(f[3]) > 0, row);
            long iterations = Long.parseLong(f[4]);
            assertTrue(f[0].equals("setup") ? iterations == 1 : iterations >= 1, row);
        }
        assertEquals(List.of("setup", "setup", "move-inactive", "move-inactive"),
                rows.subList(1, rows.size()).stream().map(r -> r.split(",")[0]).toList());
    }

    @Test
    void infeasibleCombinationsAreSkippedWithTheSelftestsMessage() throws IOException {
        Path csv = dir.resolve("skipped.csv");
        CliRun run = CliRun.of("perf", "--slots", "8209", "--tests", "map", "--impl", "tree", "--seconds", "0.2",
                "--csv", csv.toString(), "--warmup", "0", "--no-progress");
        assertEquals(ExitCode.OK, run.exitCode(), run.err());
        assertTrue(run.outLines().contains("| map (s/it) | infeasible |"), run.out());
        assertTrue(run.outLines().contains("skipped: map, 8209 slots, tree: Memslot count too high for this test,"
                + " decrease the cap (max is 8209)"), run.out());
        assertEquals(List.of(PerfCsv.HEADER), Files.readAllLines(csv), "nothing measured, no rows");
    }

    @Test
    void dashQRunsTheMoveTestsWithoutTheSlotZapAllQuirk() throws IOException {
        CliRun run = CliRun.of("perf", "-q", "--slots", "10", "--tests", "move-inactive,setup", "--impl", "tree",
                "--seconds", "0.1", "--warmup", "0", "--no-progress");
        assertEquals(ExitCode.OK, run.exitCode(), run.err());
        assertTrue(run.outLines().stream().anyMatch(l -> l.startsWith("| move-inactive (s/it) | ")), run.out());
        assertTrue(run.outLines().stream().anyMatch(l -> l.startsWith("| setup (total s) | ")), run.out());
    }

    @Test
    void chartIsAPngFile() throws IOException {
        Path png = dir.resolve("perf.png");
        CliRun run = CliRun.of("perf", "--slots", "10,30", "--tests", "setup", "--impl", "tree,array",
                "--seconds", "0.2", "--chart", png.toString(), "--warmup", "0", "--no-progress");
        assertEquals(ExitCode.OK, run.exitCode(), run.err());
        byte[] bytes = Files.readAllBytes(png);
        assertTrue(bytes.length > 1000, "size " + bytes.length);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, Arrays.copyOf(bytes, 4));
    }

    @Test
    void badOptionsAreUsageErrorsWithAMessage() {
        assertUsage(CliRun.of("perf", "--tests", "setup,nosuch"), "unknown test 'nosuch'");
        assertUsage(CliRun.of("perf", "--slots", "0"), "slot count 0 is outside 1..32763");
        assertUsage(CliRun.of("perf", "--slots", "32764"), "slot count 32764 is outside 1..32763");
        assertUsage(CliRun.of("perf", "--impl", "btree"), "unknown implementation 'btree'");
        assertUsage(CliRun.of("perf", "--seconds", "0"), "--seconds must be positive");
        assertUsage(CliRun.of("perf", "--warmup", "-1"), "--warmup not negative");
        assertUsage(CliRun.of("perf", "--chart", "x.svg"), "--chart must name a .png file");
    }

    private static void assertUsage(CliRun run, String message) {
        assertEquals(ExitCode.USAGE, run.exitCode(), run.out());
        assertTrue(run.err().contains(message), run.err());
    }
}
