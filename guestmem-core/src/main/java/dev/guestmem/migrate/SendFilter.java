package dev.guestmem.migrate;

/**
 * Test hook: decides whether a page due to be sent is actually copied. The migration always sends every
 * page ({@link #ALL}); a test drops one to prove that verification notices a lost dirty page.
 */
@FunctionalInterface
public interface SendFilter {
    /** Sends everything. */
    SendFilter ALL = (round, stopAndCopy, slot, page, changesDestination) -> true;

    /**
     * Whether page {@code page} of memslot {@code slot} is copied in round {@code round}.
     *
     * @param changesDestination whether the page's contents differ from what the destination holds now
     *                           (so dropping it loses data); computed only for filters other than
     *                           {@link #ALL}
     */
    boolean send(int round, boolean stopAndCopy, int slot, long page, boolean changesDestination);
}
