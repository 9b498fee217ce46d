package dev.guestmem.migrate;

import java.time.Duration;

/**
 * One round of the migration.
 *
 * @param round       0 for the first full copy, then 1, 2, ...
 * @param stopAndCopy whether the vCPUs were stopped (the last round)
 * @param dirtyPages  pages the round had to consider (all of memory in round 0)
 * @param sentPages   pages copied
 * @param zeroPages   pages skipped because they are zero on both sides
 * @param duration    how long the round took, collection included
 */
public record RoundStats(int round, boolean stopAndCopy, long dirtyPages, long sentPages, long zeroPages,
        Duration duration) {
    /** Bytes copied. */
    public long sentBytes() {
        return sentPages * 4096;
    }
}
