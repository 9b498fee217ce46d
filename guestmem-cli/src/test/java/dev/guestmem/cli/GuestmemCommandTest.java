package dev.guestmem.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class GuestmemCommandTest {
    @Test
    void helpListsTheSubcommandsAndExitsZero() {
        CliRun run = CliRun.of("--help");
        assertEquals(ExitCode.OK, run.exitCode());
        assertTrue(run.out().contains("Usage: guestmem"), run.out());
        assertTrue(run.out().contains("run"), run.out());
        assertTrue(run.out().contains("tour"), run.out());
    }

    @Test
    void versionNamesTheProject() {
        CliRun run = CliRun.of("--version");
        assertEquals(ExitCode.OK, run.exitCode());
        assertTrue(run.out().startsWith("guestmem 0."), run.out());
    }

    @Test
    void subcommandHelp() {
        CliRun run = CliRun.of("run", "--help");
        assertEquals(ExitCode.OK, run.exitCode());
        assertTrue(run.out().contains("--check"), run.out());
        assertTrue(run.out().contains("--impl"), run.out());
    }

    @Test
    void noSubcommandIsAUsageError() {
        CliRun run = CliRun.of();
        assertEquals(ExitCode.USAGE, run.exitCode());
        assertTrue(run.err().contains("Usage: guestmem"), run.err());
        assertEquals("", run.out());
    }

    @Test
    void badArgumentsAreUsageErrors() {
        assertEquals(ExitCode.USAGE, CliRun.of("frobnicate").exitCode());
        assertEquals(ExitCode.USAGE, CliRun.of("run").exitCode(), "run needs a FILE");
        CliRun badImpl = CliRun.of("run", "--impl", "list", "x.gmt");
        assertEquals(ExitCode.USAGE, badImpl.exitCode());
        assertTrue(badImpl.err().contains("--impl"), badImpl.err());
    }
}
