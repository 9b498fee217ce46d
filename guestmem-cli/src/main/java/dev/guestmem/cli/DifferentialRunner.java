package dev.guestmem.cli;

import dev.guestmem.fuzz.Comparison;
import dev.guestmem.fuzz.DifferentialReplayer;
import dev.guestmem.trace.ReplayListener;
import dev.guestmem.trace.Trace;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Replays on two backends and settles each line once both printed it, so the lines passed on are the
 * first backend's up to the first divergence, which is thrown as a {@link DivergenceException}. A replay
 * that stops on either side (an operation one backend does not implement, a usage error) stops here
 * too, with its reason, and is no divergence.
 */
record DifferentialRunner(DifferentialReplayer replayer, Consumer<Trace> precheck, String label)
        implements TraceRunner {
    DifferentialRunner {
        Objects.requireNonNull(replayer, "replayer");
        Objects.requireNonNull(precheck, "precheck");
        Objects.requireNonNull(label, "label");
    }

    @Override
    public List<String> replay(Trace trace, ReplayListener listener) {
        precheck.accept(trace);
        Comparison comparison = replayer.compare(trace, listener);
        return switch (comparison) {
            case Comparison.Divergence d -> throw new DivergenceException(d, replayer.first().name(),
                    replayer.second().name());
            case Comparison.Agreement a -> {
                if (a.stop().isPresent()) {
                    throw a.stop().get();
                }
                yield a.agreed();
            }
        };
    }
}
