package dev.guestmem.fuzz;

import dev.guestmem.trace.TraceException;
import dev.guestmem.trace.TraceOp;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** How the replays of one trace on two backends compare. */
public sealed interface Comparison {
    /** The result lines both backends printed, in order, up to the end, a stop or the divergence. */
    List<String> agreed();

    /**
     * Both printed the same lines. {@code stop} is why the replays ended early, if they did: an operation
     * not implemented on (at least) one side, or a usage error; it is not a difference.
     */
    record Agreement(List<String> agreed, Optional<TraceException> stop) implements Comparison {
        public Agreement {
            agreed = List.copyOf(agreed);
            Objects.requireNonNull(stop, "stop");
        }
    }

    /** At {@code op} the first backend printed {@code first} and the second {@code second}. */
    record Divergence(List<String> agreed, TraceOp op, String first, String second) implements Comparison {
        public Divergence {
            agreed = List.copyOf(agreed);
            Objects.requireNonNull(op, "op");
            Objects.requireNonNull(first, "first");
            Objects.requireNonNull(second, "second");
        }
    }
}
