package dev.guestmem.trace;

/**
 * A usage error in a trace (trace-format.md, lexical rules): a malformed line, an unknown operation, a
 * wrong operand count, a bad or out-of-range number, or a NAME that is not defined. The message is
 * {@code FILE:LINE: what is wrong}.
 */
public final class TraceUsageException extends TraceException {
    private static final long serialVersionUID = 1L;

    private final String file;
    private final int line;

    /** A usage error at {@code file:line}; {@code problem} says what is wrong, without the location. */
    public TraceUsageException(String file, int line, String problem) {
        super(file + ":" + line + ": " + problem);
        this.file = file;
        this.line = line;
    }

    /** A usage error in the operation read from {@code source}. */
    public TraceUsageException(SourceLine source, String problem) {
        this(source.file(), source.line(), problem);
    }

    /** The trace file, as it was named. */
    public String file() {
        return file;
    }

    /** The 1-based line number. */
    public int line() {
        return line;
    }
}
