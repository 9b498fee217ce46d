package dev.guestmem.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** One execution of {@code guestmem} with captured output, for tests. */
record CliRun(int exitCode, String out, String err) {
    static CliRun of(String... args) {
        CommandLine commandLine = GuestmemCommand.newCommandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        int exitCode = commandLine.execute(args);
        return new CliRun(exitCode, out.toString(), err.toString());
    }

    /** Standard output split into lines. */
    java.util.List<String> outLines() {
        return out.lines().toList();
    }
}
