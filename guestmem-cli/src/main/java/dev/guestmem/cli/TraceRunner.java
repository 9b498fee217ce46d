package dev.guestmem.cli;

import dev.guestmem.trace.ReplayListener;
import dev.guestmem.trace.Trace;
import java.util.List;

/** Replays a trace for {@code guestmem run}, on whichever backend or backends were chosen. */
interface TraceRunner {
    /**
     * Replays {@code trace}, telling {@code listener} each result line as it is settled; returns them all.
     *
     * @throws dev.guestmem.trace.TraceException where the replay stops early
     * @throws DivergenceException where two backends print different lines
     */
    List<String> replay(Trace trace, ReplayListener listener);

    /** How the options that chose this runner read in a diff header, e.g. {@code --impl tree}. */
    String label();
}
