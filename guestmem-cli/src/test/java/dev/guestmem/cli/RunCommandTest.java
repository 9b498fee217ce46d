package dev.guestmem.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code run} plumbing. The traces here only use memslot calls that the engine rejects or accepts
 * without touching host memory, so they test the CLI rather than the engine.
 */
class RunCommandTest {
    /** Three region calls the kernel answers without looking at memory (spec §1.1 steps 3, 8, 15). */
    private static final String TRACE = """
            # no memory needed
            region 32764 0 0 0x1000 0
            region 0 0 0x1001 0x1000 0
            region 1 0 0 0 0
            """;
    private static final List<String> RESULTS = List.of("err EINVAL", "err EINVAL", "err EINVAL");

    @TempDir
    Path dir;

    private Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }

    @Test
    void printsOneResultLinePerOperation() throws IOException {
        Path trace = write("t.gmt", TRACE);
        for (String impl : List.of("tree", "array", "TREE")) {
            CliRun run = CliRun.of("run", "--impl", impl, trace.toString());
            assertEquals(ExitCode.OK, run.exitCode(), run.err());
            assertEquals(RESULTS, run.outLines());
            assertEquals("", run.err());
        }
    }

    @Test
    void severalFilesGetAHeaderEach() throws IOException {
        Path a = write("a.gmt", TRACE);
        Path b = write("b.gmt", "region 1 0 0 0 0\n");
        CliRun run = CliRun.of("run", a.toString(), b.toString());
        assertEquals(ExitCode.OK, run.exitCode(), run.err());
        assertEquals(List.of("== " + a, "err EINVAL", "err EINVAL", "err EINVAL", "== " + b, "err EINVAL"),
                run.outLines());
    }

    @Test
    void usageErrorNamesFileAndLineAndExitsTwo() throws IOException {
        Path trace = write("bad.gmt", "region 1 0 0 0 0\n\nregion 1 0 0 0\n");
        CliRun run = CliRun.of("run", trace.toString());
        assertEquals(ExitCode.USAGE, run.exitCode());
        assertEquals(trace + ":3: region takes 5 operands (region SLOT FLAGS GPA SIZE HVA), got 4",
                run.err().strip());
        assertEquals("", run.out(), "a malformed trace stops before its first operation");
    }

    @Test
    void undefinedNameIsAUsageError() throws IOException {
        Path trace = write("names.gmt", "region 1 0 0 0x1000 a\n");
        CliRun run = CliRun.of("run", trace.toString());
        assertEquals(ExitCode.USAGE, run.exitCode());
        assertTrue(run.err().startsWith(trace + ":1: undefined name 'a'"), run.err());
    }

    /** The last pending operations (the dirty log) replay now: nothing stops a trace any more. */
    @Test
    void dirtyLogOperationsReplay() throws IOException {
        Path trace = write("dirty.gmt", "region 1 0 0 0 0\ndirty 1 64\nenable-cap manual-protect 3\n"
                + "clear 1 0 64 all\n");
        CliRun run = CliRun.of("run", trace.toString());
        assertEquals(ExitCode.OK, run.exitCode());
        assertEquals(List.of("err EINVAL", "err ENOENT", "ok", "err ENOENT"), run.outLines());
    }

    @Test
    void missingFileIsAUsageError() {
        Path missing = dir.resolve("nope.gmt");
        CliRun run = CliRun.of("run", missing.toString());
        assertEquals(ExitCode.USAGE, run.exitCode());
        assertEquals("guestmem: " + missing + ": no such file", run.err().strip());
    }

    @Test
    void laterFilesStillRunAfterAFailingOne() throws IOException {
        Path bad = write("bad.gmt", "nonsense\n");
        Path good = write("good.gmt", TRACE);
        CliRun run = CliRun.of("run", bad.toString(), good.toString());
        assertEquals(ExitCode.USAGE, run.exitCode());
        assertEquals(List.of("== " + bad, "== " + good, "err EINVAL", "err EINVAL", "err EINVAL"), run.outLines());
        assertTrue(run.err().startsWith(bad + ":1: unknown operation 'nonsense'"), run.err());
    }

    @Test
    void checkPassesWhenOutputMatches() throws IOException {
        Path trace = write("t.gmt", TRACE);
        write("t.expected", String.join("\n", RESULTS) + "\n");
        CliRun run = CliRun.of("run", "--check", trace.toString());
        assertEquals(ExitCode.OK, run.exitCode(), run.err());
        assertEquals(List.of("PASS " + trace), run.outLines());
    }

    @Test
    void checkPrintsAUnifiedDiffAndExitsOneOnMismatch() throws IOException {
        Path trace = write("t.gmt", TRACE);
        Path expected = write("t.expected", "err EINVAL\nok\nerr EINVAL\n");
        Path other = write("u.gmt", "region 1 0 0 0 0\n");
        write("u.expected", "err EINVAL\n");
        CliRun run = CliRun.of("run", "--check", "--impl", "array", trace.toString(), other.toString());
        assertEquals(ExitCode.MISMATCH, run.exitCode(), run.err());
        List<String> lines = run.outLines();
        assertEquals(List.of("FAIL " + trace, "--- " + expected, "+++ " + trace + " (--impl array)",
                "@@ -1,3 +1,3 @@"), lines.subList(0, 4));
        // Where the diff puts the changed line among equal neighbours is the diff algorithm's choice.
        List<String> hunk = lines.subList(4, lines.size() - 1);
        assertEquals(List.of("-ok"), hunk.stream().filter(l -> l.startsWith("-")).toList());
        assertEquals(List.of("+err EINVAL"), hunk.stream().filter(l -> l.startsWith("+")).toList());
        assertEquals(2, hunk.stream().filter(l -> l.equals(" err EINVAL")).count());
        assertEquals("PASS " + other, lines.get(lines.size() - 1));
    }

    @Test
    void checkWithoutExpectedFileIsAUsageError() throws IOException {
        Path trace = write("t.gmt", TRACE);
        CliRun run = CliRun.of("run", "--check", trace.toString());
        assertEquals(ExitCode.USAGE, run.exitCode());
        assertEquals("guestmem: " + dir.resolve("t.expected") + ": no such file", run.err().strip());
    }
}
