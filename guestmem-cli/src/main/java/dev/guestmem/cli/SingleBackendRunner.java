package dev.guestmem.cli;

import dev.guestmem.trace.ReplayListener;
import dev.guestmem.trace.Trace;
import dev.guestmem.trace.TraceReplayer;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/** Replays on one backend; {@code precheck} may refuse a trace the backend cannot run before it starts. */
record SingleBackendRunner(TraceReplayer replayer, Consumer<Trace> precheck, String label) implements TraceRunner {
    SingleBackendRunner {
        Objects.requireNonNull(replayer, "replayer");
        Objects.requireNonNull(precheck, "precheck");
        Objects.requireNonNull(label, "label");
    }

    @Override
    public List<String> replay(Trace trace, ReplayListener listener) {
        precheck.accept(trace);
        return replayer.replay(trace, listener);
    }
}
