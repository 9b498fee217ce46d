package dev.guestmem.trace;

/**
 * A trace that cannot be replayed to its end: not a failing operation (that prints {@code err ...} and
 * goes on) but a reason to stop, which the CLI reports with exit status 2.
 */
public abstract sealed class TraceException extends RuntimeException
        permits TraceUsageException, TraceNotImplementedException {
    private static final long serialVersionUID = 1L;

    TraceException(String message) {
        super(message);
    }
}
