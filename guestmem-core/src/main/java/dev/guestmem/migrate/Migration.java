package dev.guestmem.migrate;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Live migration of a running engine VM's memory into another VM (pre-copy, as QEMU does it): turn dirty
 * logging on, copy all memory while the vCPUs keep storing, then repeatedly collect the pages dirtied
 * meanwhile and copy those, until what is left could be copied within the downtime target (or stops
 * shrinking, or the round limit is reached); then pause the vCPUs, collect and copy the rest, and compare
 * the two memories byte for byte.
 *
 * <p>Correctness rests on the dirty log's guarantee (INV-B): a page is copied after the collection that
 * reported it returned, and any store after that collection is reported by a later one — the last of which
 * runs with the vCPUs paused. Each pre-copy round ends only once the guest has stored after its copy, so
 * every round races real guest stores however the host schedules the vCPU threads. Pages the VMM changes
 * behind the guest's back (host discards) are resent by the VMM itself, since host-side changes are never
 * logged.
 */
public final class Migration {
    private static final double PLATEAU = 0.95;
    private static final int PLATEAU_ROUNDS = 5;
    /** How long a pre-copy round waits for a guest store after its copy (see {@code awaitGuest}). */
    private static final long GUEST_WAIT_NANOS = 1_000_000_000L;

    private final MigrationOptions options;
    private final MigrationListener listener;
    private final SendFilter filter;

    /** A migration with {@code options}, reporting to {@code listener}. */
    public Migration(MigrationOptions options, MigrationListener listener) {
        this(options, listener, SendFilter.ALL);
    }

    /** Test seam: {@code filter} may drop pages that are due to be sent. */
    Migration(MigrationOptions options, MigrationListener listener, SendFilter filter) {
        this.options = options;
        this.listener = listener;
        this.filter = filter;
    }

    /** Builds both VMs, migrates, verifies, and tears both down. */
    public MigrationReport run() {
        GuestLayout layout = new GuestLayout(options.slots(), options.slotBytes());
        try (SourceMachine source = new SourceMachine(options, layout);
                DestinationMachine destination = new DestinationMachine(layout, options.prealloc());
                PageSender sender = new PageSender(source.host(), destination.host(), layout,
                        new Throttle(options.bandwidth()), filter)) {
            source.start();
            return new Run(source, destination, layout, sender).migrate();
        }
    }

    /** The state of one run. */
    private final class Run {
        private final SourceMachine source;
        private final DestinationMachine destination;
        private final GuestLayout layout;
        private final PageSender sender;
        private final DirtyCollector collector;
        private final List<RoundStats> rounds = new ArrayList<>();
        private final List<String> events = new ArrayList<>();
        /** Pages harvested from full rings in the middle of a round: due in the next one. */
        private PageSet early;
        private long sendNanos;
        private long sentBytes;

        Run(SourceMachine source, DestinationMachine destination, GuestLayout layout, PageSender sender) {
            this.source = source;
            this.destination = destination;
            this.layout = layout;
            this.sender = sender;
            this.collector = DirtyCollector.of(options.mode(), source.vm(), layout, options.vcpus());
            this.early = emptySet();
        }

        MigrationReport migrate() {
            long storesBefore = source.guestStores();
            long start = System.nanoTime();
            source.startLogging();
            // Round 0: everything. In clear-log mode INITIALLY_SET makes the first collection say so itself.
            PageSet all = options.mode() == LogMode.CLEAR_LOG ? collect() : PageSet.all(layout.slots(),
                    layout.pagesPerSlot());
            round(0, false, all, start);
            long previous = Long.MAX_VALUE;
            int round = 1;
            PageSet dirty;
            for (;; round++) {
                long roundStart = System.nanoTime();
                dirty = collect();
                if (options.chaos() && round == 1) {
                    for (String e : new Chaos(source, destination, layout, options.mode()).strike(dirty)) {
                        events.add(e);
                        listener.event(e);
                    }
                }
                long count = dirty.count();
                if (round > options.maxRounds() || converged(count)) {
                    break;
                }
                if (round >= PLATEAU_ROUNDS && count >= previous * PLATEAU) {
                    note("the dirty set stopped shrinking (" + count + " pages): stopping the vCPUs");
                    break;
                }
                previous = count;
                round(round, false, dirty, roundStart);
            }
            long paused = System.nanoTime();
            source.pauseVcpus();
            dirty.addAll(collect());
            round(round, true, dirty, paused);
            long end = System.nanoTime();
            failIfGuestStopped();
            Verification verification = new Verifier(source, destination, layout).verify();
            return new MigrationReport(options, rounds, Duration.ofNanos(end - start), Duration.ofNanos(end - paused),
                    source.guestStores() - storesBefore, events, verification);
        }

        /** Whether the dirty set could be copied within the downtime target at the bandwidth seen so far. */
        private boolean converged(long pages) {
            double rate = sendNanos == 0 ? 1e9 : sentBytes * 1e9 / sendNanos;
            if (options.bandwidth() > 0) {
                rate = Math.min(rate, options.bandwidth());
            }
            boolean done = pages * 4096.0 / rate <= options.downtimeTarget().toNanos() / 1e9;
            if (done) {
                note(pages + " dirty pages fit the downtime target: stopping the vCPUs");
            }
            return done;
        }

        private void round(int number, boolean stopAndCopy, PageSet pages, long startNanos) {
            long count = pages.count();
            listener.roundStarted(number, stopAndCopy, count);
            long sendStart = System.nanoTime();
            PageSender.Sent sent = sender.send(pages, number, stopAndCopy, n -> {
                listener.progress(n);
                if (!stopAndCopy) {
                    harvestFullRings();
                }
            });
            long storesAfterCopy = source.guestStores();
            long now = System.nanoTime();
            sendNanos += now - sendStart;
            sentBytes += sent.bytes();
            RoundStats stats = new RoundStats(number, stopAndCopy, count, sent.pages(), sent.zeroPages(),
                    Duration.ofNanos(now - startNanos));
            rounds.add(stats);
            listener.roundFinished(stats);
            if (!stopAndCopy) {
                awaitGuest(number, storesAfterCopy);
            }
        }

        /**
         * Holds the next collection until the guest has stored since round {@code number}'s copy ended (at
         * most {@link #GUEST_WAIT_NANOS}; an idle guest is not waited for). A vCPU normally stores within
         * microseconds, but on an overloaded host both vCPU threads can go unscheduled for a whole short
         * round, and then the migration would verify nothing but a copy: this way every pre-copy round
         * races real guest stores, and some page sent in it is dirtied again, which is what the dirty log
         * must catch. Full rings are harvested meanwhile, as during a copy.
         */
        private void awaitGuest(int number, long storesAfterCopy) {
            if (options.writeRate() == 0) {
                return;
            }
            if (!source.awaitStoresSince(storesAfterCopy, GUEST_WAIT_NANOS, this::harvestFullRings)) {
                note("the guest made no store in the second after round " + number);
            }
        }

        private void harvestFullRings() {
            if (source.takeRingFull()) {
                collector.collect(early); // unblock the vCPU; the pages are due next round
            }
        }

        /** A collection, plus whatever full rings handed over since the last one. */
        private PageSet collect() {
            PageSet set = early;
            early = emptySet();
            collector.collect(set);
            return set;
        }

        private PageSet emptySet() {
            return new PageSet(layout.slots(), layout.pagesPerSlot());
        }

        private void note(String what) {
            events.add(what);
            listener.event(what);
        }

        private void failIfGuestStopped() {
            if (source.failure() != null) {
                throw new IllegalStateException("a source vCPU stopped: " + source.failure());
            }
        }
    }
}
