package dev.guestmem.trace;

import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * THE place that says which trace operations the replayer cannot run yet because their subsystem is
 * not built. Reaching one stops the replay with {@link TraceNotImplementedException} instead of
 * printing a result that could be wrong. To wire one in: add the call to {@link dev.guestmem.vm.Vm},
 * replace its case in {@link OpExecutor}, and delete its line below. The corpus replay tests derive
 * which traces must match their {@code .expected} output from this set, so they pick the trace up
 * automatically.
 */
public final class PendingOps {
    private static final Set<OpKind> PENDING = EnumSet.noneOf(OpKind.class);

    private PendingOps() {
    }

    /** Whether the replayer can run operations of this kind. */
    public static boolean isImplemented(OpKind kind) {
        return !PENDING.contains(kind);
    }

    /** The first operation of {@code trace} that the replayer cannot run yet, if any. */
    public static Optional<TraceOp> firstPending(Trace trace) {
        return trace.ops().stream().filter(op -> !isImplemented(op.kind())).findFirst();
    }
}
