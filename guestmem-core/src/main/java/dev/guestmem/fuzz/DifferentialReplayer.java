package dev.guestmem.fuzz;

import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.trace.ReplayListener;
import dev.guestmem.trace.Trace;
import dev.guestmem.trace.TraceException;
import dev.guestmem.trace.TraceOp;
import dev.guestmem.trace.TraceReplayer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Replays one trace on two backends and compares their result lines one by one, up to the first
 * difference. The replays run one after the other, never side by side: each has its own host address
 * space, and a mapping made by one must not land in a hole the other relies on. The second replay is
 * stopped at the first difference, or where the first one stopped.
 *
 * <p>An operation not implemented on one side, or a usage error, ends the comparison there without a
 * difference ({@link Comparison.Agreement#stop()}); failures of a backend itself (an exception that is not
 * a {@link TraceException}) propagate.
 */
public final class DifferentialReplayer {
    private final Backend first;
    private final Backend second;
    private final MemslotImpl memslotImpl;

    /** Compares {@code first} with {@code second}, the engine's VMs using memslots of {@code memslotImpl}. */
    public DifferentialReplayer(Backend first, Backend second, MemslotImpl memslotImpl) {
        this.first = Objects.requireNonNull(first, "first");
        this.second = Objects.requireNonNull(second, "second");
        this.memslotImpl = Objects.requireNonNull(memslotImpl, "memslotImpl");
    }

    public Backend first() {
        return first;
    }

    public Backend second() {
        return second;
    }

    /** Compares the replays of {@code trace}. */
    public Comparison compare(Trace trace) {
        return compare(trace, ReplayListener.none());
    }

    /** Compares the replays of {@code trace}, telling {@code agreed} each line as both have printed it. */
    public Comparison compare(Trace trace, ReplayListener agreed) {
        List<Result> firstResults = new ArrayList<>();
        Optional<TraceException> firstStop = replay(first, trace,
                (op, line) -> firstResults.add(new Result(op, line)));
        Matcher matcher = new Matcher(firstResults, agreed);
        Optional<TraceException> secondStop;
        try {
            secondStop = replay(second, trace, matcher);
        } catch (Diverged d) {
            return d.divergence;
        } catch (ReachedFirstStop s) {
            return new Comparison.Agreement(matcher.agreed, firstStop);
        }
        if (secondStop.isPresent()) {
            // Where both stopped at the same operation, the first backend's reason is reported.
            boolean sameOp = firstStop.isPresent() && matcher.agreed.size() == firstResults.size();
            return new Comparison.Agreement(matcher.agreed, sameOp ? firstStop : secondStop);
        }
        if (matcher.agreed.size() != firstResults.size()) {
            throw new IllegalStateException(second.name() + " printed " + matcher.agreed.size() + " lines, "
                    + first.name() + " " + firstResults.size() + ", for the same operations");
        }
        return new Comparison.Agreement(matcher.agreed, firstStop);
    }

    private Optional<TraceException> replay(Backend backend, Trace trace, ReplayListener listener) {
        try {
            new TraceReplayer(backend.factory(), memslotImpl).replay(trace, listener);
            return Optional.empty();
        } catch (TraceException e) {
            return Optional.of(e);
        }
    }

    /** One operation's result line. */
    private record Result(TraceOp op, String line) {
    }

    /** Checks each line of the second replay against the first's; throws to stop the second replay. */
    private final class Matcher implements ReplayListener {
        private final List<Result> expected;
        private final ReplayListener agreedListener;
        private final List<String> agreed = new ArrayList<>();

        Matcher(List<Result> expected, ReplayListener agreedListener) {
            this.expected = expected;
            this.agreedListener = agreedListener;
        }

        @Override
        public void onResult(TraceOp op, String line) {
            int index = agreed.size();
            if (index >= expected.size()) {
                throw new ReachedFirstStop();
            }
            Result result = expected.get(index);
            if (result.op() != op) {
                throw new IllegalStateException("replays out of step at " + op.source().where() + " and "
                        + result.op().source().where());
            }
            if (!result.line().equals(line)) {
                throw new Diverged(new Comparison.Divergence(agreed, op, result.line(), line));
            }
            agreed.add(line);
            agreedListener.onResult(op, line);
        }
    }

    /** Control flow only: ends the second replay at a difference (no stack trace needed). */
    private static final class Diverged extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final transient Comparison.Divergence divergence;

        Diverged(Comparison.Divergence divergence) {
            super(null, null, false, false);
            this.divergence = divergence;
        }
    }

    /** Control flow only: the first replay stopped before this operation, so there is nothing to compare. */
    private static final class ReachedFirstStop extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ReachedFirstStop() {
            super(null, null, false, false);
        }
    }
}
