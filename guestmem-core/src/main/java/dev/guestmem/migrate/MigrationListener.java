package dev.guestmem.migrate;

/** Hears how a migration progresses (the command line draws a progress bar per round from it). */
public interface MigrationListener {
    /** Hears nothing. */
    MigrationListener NONE = new MigrationListener() {
    };

    /** Round {@code round} starts with {@code pages} pages to consider. */
    default void roundStarted(int round, boolean stopAndCopy, long pages) {
    }

    /** {@code pages} more pages of the current round were handled. */
    default void progress(long pages) {
    }

    /** The current round ended. */
    default void roundFinished(RoundStats stats) {
    }

    /** Something happened that is worth a line (chaos, convergence). */
    default void event(String what) {
    }
}
