package dev.guestmem.trace;

/**
 * The replay reached an operation whose subsystem is not built yet ({@link PendingOps}). The replay
 * stops there rather than print a result that could be wrong. Message:
 * {@code not implemented yet: OP (FILE:LINE)}.
 */
public final class TraceNotImplementedException extends TraceException {
    private static final long serialVersionUID = 1L;

    private final transient TraceOp op;

    /** The replay stopped at {@code op}. */
    public TraceNotImplementedException(TraceOp op) {
        super("not implemented yet: " + op.kind().keyword() + " (" + op.source().where() + ")");
        this.op = op;
    }

    /** The operation that stopped the replay. */
    public TraceOp op() {
        return op;
    }
}
