package dev.guestmem.trace;

/** Receives each result line as soon as its operation has run. */
@FunctionalInterface
public interface ReplayListener {
    /** {@code op} ran and printed {@code result}. */
    void onResult(TraceOp op, String result);

    /** A listener that ignores everything. */
    static ReplayListener none() {
        return (op, result) -> {
        };
    }
}
