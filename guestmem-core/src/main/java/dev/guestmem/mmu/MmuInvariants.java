package dev.guestmem.mmu;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The MMU's {@code WARN_ON}s: every broken invariant of mmu.md §8.5 the MMU can see on its own (illegal
 * SPTE values, PFN changes of a present leaf, an overwritten FROZEN entry, unbalanced invalidations).
 * Recorded rather than thrown, so a violation inside a locked section does not leave the MMU half
 * updated; tests assert that none was recorded.
 */
public final class MmuInvariants {
    private static final int KEEP = 100;
    private final CopyOnWriteArrayList<String> violations = new CopyOnWriteArrayList<>();

    /** Records one violation (the first {@value #KEEP} are kept verbatim). */
    public void record(String what) {
        if (violations.size() < KEEP) {
            violations.add(what);
        }
    }

    /** The violations recorded so far, oldest first. */
    public List<String> violations() {
        return List.copyOf(violations);
    }
}
