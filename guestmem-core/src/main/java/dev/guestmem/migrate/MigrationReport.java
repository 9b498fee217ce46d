package dev.guestmem.migrate;

import java.time.Duration;
import java.util.List;

/**
 * The outcome of a migration.
 *
 * @param options       what was migrated, how
 * @param rounds        every round, the stop-and-copy one last
 * @param total         from turning logging on to the end of the stop-and-copy round
 * @param downtime      from pausing the vCPUs to the end of the stop-and-copy round
 * @param guestStores   stores the source's vCPUs completed during the run
 * @param events        what chaos did, in order
 * @param verification  the byte-for-byte comparison
 */
public record MigrationReport(MigrationOptions options, List<RoundStats> rounds, Duration total, Duration downtime,
        long guestStores, List<String> events, Verification verification) {
    public MigrationReport {
        rounds = List.copyOf(rounds);
        events = List.copyOf(events);
    }

    /** Bytes copied over all rounds. */
    public long sentBytes() {
        return rounds.stream().mapToLong(RoundStats::sentBytes).sum();
    }

    /** Guest memory migrated per second of migration (memory size / total time). */
    public double throughput() {
        return options.memoryBytes() / Math.max(1e-9, total.toNanos() / 1e9);
    }
}
