package dev.guestmem.gmem;

import dev.guestmem.memslot.Memslot;
import java.util.ArrayList;
import java.util.List;

/**
 * The zaps of one invalidation, collected before anything is touched, and the one shape every
 * invalidation window has: begin, zap each range, done zapping, run the change, end; or, with nothing to
 * zap, only the change (spec §5.5: begin and end are decided by the same predicate).
 */
final class ZapPlan {
    private final List<Memslot> slots = new ArrayList<>();
    private final List<GfnRange> ranges = new ArrayList<>();

    /** Adds {@code range} of {@code slot}; an empty range is not a zap and is ignored. */
    void add(Memslot slot, GfnRange range) {
        if (!range.isEmpty()) {
            slots.add(slot);
            ranges.add(range);
        }
    }

    /**
     * Runs the plan on {@code target}: with at least one zap, {@code begin}, the zaps with
     * {@code filter}, {@code zapsDone}, {@code change}, {@code end} (also if {@code change} throws); else
     * only {@code change}.
     *
     * @return whether a window was opened
     */
    boolean run(GmemInvalidationTarget target, ZapFilter filter, Runnable change) {
        if (slots.isEmpty()) {
            change.run();
            return false;
        }
        target.begin();
        try {
            for (int i = 0; i < slots.size(); i++) {
                target.zap(slots.get(i), ranges.get(i).start(), ranges.get(i).end(), filter);
            }
            target.zapsDone();
            change.run();
        } finally {
            target.end();
        }
        return true;
    }
}
