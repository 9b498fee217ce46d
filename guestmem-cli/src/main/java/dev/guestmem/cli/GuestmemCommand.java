package dev.guestmem.cli;

import dev.guestmem.kvm.KvmException;
import dev.guestmem.trace.TraceException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code guestmem}: the command-line face of the engine. */
@Command(name = "guestmem", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Replays guest-memory traces (.gmt) on the pure-Java KVM engine, on the real KVM, or on both.",
        subcommands = {MigrateCommand.class, RunCommand.class, TourCommand.class, FuzzCommand.class, PerfCommand.class},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {
            "0:success",
            "1:--check found output that differs from its .expected file; --backend both found a divergence",
            "2:usage error: bad arguments, unreadable file, malformed trace, operation not implemented yet,",
            "  /dev/kvm unusable or the kvm backend failed"})
public final class GuestmemCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    /** Runs the command and exits with its status. */
    public static void main(String[] args) {
        System.exit(newCommandLine().execute(args));
    }

    /**
     * A command line ready to execute: trace errors (a malformed trace, an undefined name, an operation
     * not built yet) and unreadable files print one line on stderr and give exit status 2.
     */
    public static CommandLine newCommandLine() {
        CommandLine commandLine = new CommandLine(new GuestmemCommand());
        commandLine.setCaseInsensitiveEnumValuesAllowed(true);
        commandLine.setExecutionExceptionHandler(GuestmemCommand::handle);
        return commandLine;
    }

    /** Without a subcommand there is nothing to do: show the usage, as a usage error. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return ExitCode.USAGE;
    }

    private static int handle(Exception e, CommandLine commandLine, CommandLine.ParseResult parseResult)
            throws Exception {
        PrintWriter err = commandLine.getErr();
        String message = describe(e);
        if (message == null) {
            throw e;
        }
        err.println(message);
        err.flush();
        return ExitCode.USAGE;
    }

    /** The one-line report for an expected failure, or null for a bug that should surface as is. */
    static String describe(Throwable e) {
        return switch (e) {
            case TraceException t -> t.getMessage();
            case KvmException k -> "guestmem: kvm backend: " + k.getMessage();
            case UncheckedIOException u -> describe(u.getCause());
            case NoSuchFileException n -> "guestmem: " + n.getFile() + ": no such file";
            case IOException io -> "guestmem: " + io.getMessage();
            default -> null;
        };
    }
}
