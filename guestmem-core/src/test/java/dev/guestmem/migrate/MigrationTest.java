package dev.guestmem.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The migration job end to end at a small size: 32 MiB in 4 memslots, 2 vCPUs storing as fast as they
 * can into a hot set and everywhere else, in each log mode, with and without chaos (slot move, host
 * discard, VMM write). The destination must equal the source byte for byte — and must not when one dirty
 * page is dropped, which proves the verification can fail.
 */
class MigrationTest {
    private static MigrationOptions small(LogMode mode) {
        return MigrationOptions.defaults().withMemory(32L << 20, 4).withMode(mode).withWriteRate(2_000_000)
                .withMaxRounds(8);
    }

    @ParameterizedTest
    @EnumSource(LogMode.class)
    void theDestinationEqualsTheSource(LogMode mode) {
        MigrationReport report = new Migration(small(mode), MigrationListener.NONE).run();
        assertTrue(report.verification().ok(), () -> report.verification().toString());
        assertEquals(32L << 20, report.verification().bytesCompared());
        assertTrue(report.guestStores() > 0, "the guest ran during the migration");
        RoundStats last = report.rounds().getLast();
        assertTrue(last.stopAndCopy());
        assertEquals(0, report.rounds().getFirst().round());
        assertEquals(8192, report.rounds().getFirst().dirtyPages(), "round 0 considers every page");
        assertTrue(report.rounds().size() >= 2);
        assertEquals(4 * 8, report.verification().guestChecks());
    }

    @ParameterizedTest
    @EnumSource(LogMode.class)
    void chaosDuringTheMigrationStillVerifies(LogMode mode) {
        MigrationReport report = new Migration(small(mode).withChaos(true), MigrationListener.NONE).run();
        assertTrue(report.verification().ok(), () -> report.verification().toString());
        List<String> events = report.events();
        assertTrue(events.stream().anyMatch(e -> e.startsWith("memslot 4 moved")), events::toString);
        assertTrue(events.stream().anyMatch(e -> e.startsWith("host discarded")), events::toString);
        assertTrue(events.stream().anyMatch(e -> e.startsWith("VMM wrote")), events::toString);
    }

    /**
     * Drops page P from its first send after round 0 that would change the destination, and from every
     * send of P after that: the destination keeps an older version of P, and since the guest's stored
     * values never repeat, the source's final P differs from it. Exactly P must be reported.
     */
    @ParameterizedTest
    @EnumSource(LogMode.class)
    void aDroppedDirtyPageFailsTheVerification(LogMode mode) {
        AtomicReference<String> dropped = new AtomicReference<>();
        SendFilter dropOnePage = (round, stopAndCopy, slot, page, changesDestination) -> {
            String name = slot + ":" + page;
            if (round > 0 && changesDestination) {
                dropped.compareAndSet(null, name);
            }
            return !name.equals(dropped.get());
        };
        MigrationReport report = new Migration(small(mode), MigrationListener.NONE, dropOnePage).run();
        assertTrue(dropped.get() != null, "no page after round 0 changed the destination: the guest never ran");
        assertFalse(report.verification().ok());
        assertEquals(1, report.verification().mismatchCount());
        assertEquals(List.of(dropped.get()), report.verification().mismatches());
    }

    /**
     * A guest that stores in bursts of 64 every 640 ms is asleep during a whole 32 MiB migration unless the
     * migration waits for it: each pre-copy round must see a store after its copy, as a guest whose threads
     * the host did not schedule must (the reason for the wait).
     */
    @ParameterizedTest
    @EnumSource(LogMode.class)
    void everyPreCopyRoundRacesAGuestStore(LogMode mode) {
        MigrationReport report = new Migration(small(mode).withWriteRate(100), MigrationListener.NONE).run();
        assertTrue(report.verification().ok(), () -> report.verification().toString());
        assertTrue(report.guestStores() > 0, "the migration did not wait for the guest");
        assertTrue(report.events().stream().noneMatch(e -> e.startsWith("the guest made no store")),
                report.events()::toString);
    }

    @ParameterizedTest
    @EnumSource(LogMode.class)
    void anIdleGuestMigratesToo(LogMode mode) {
        MigrationReport report = new Migration(small(mode).withWriteRate(0), MigrationListener.NONE).run();
        assertTrue(report.verification().ok(), () -> report.verification().toString());
        assertEquals(0, report.guestStores(), "idle vCPUs store nothing");
    }
}
