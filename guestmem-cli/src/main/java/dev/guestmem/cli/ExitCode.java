package dev.guestmem.cli;

/** The exit statuses of {@code guestmem}. */
public final class ExitCode {
    /** Everything ran (and, with {@code --check}, matched). */
    public static final int OK = 0;
    /** {@code --check}: some output differs from its {@code .expected} file. */
    public static final int MISMATCH = 1;
    /** A usage error: bad command line, unreadable file, malformed trace, or an operation not built yet. */
    public static final int USAGE = 2;

    private ExitCode() {
    }
}
