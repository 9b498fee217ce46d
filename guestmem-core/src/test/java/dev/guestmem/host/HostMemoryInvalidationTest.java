package dev.guestmem.host;

import static dev.guestmem.host.HostMemory.PAGE_SIZE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.Errno;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The MMU-notifier contract: who is told what, in which order, and what they can still see. */
class HostMemoryInvalidationTest {
    /** One observed callback; {@code seen} is what the listener could read at the range start then. */
    record Event(String phase, long start, long end, InvalidationCause cause, String seen) {
    }

    private HostMemory host;
    private final List<Event> events = new ArrayList<>();

    /** Records every callback together with what is visible at the range start at that moment. */
    private final InvalidationListener recorder = new InvalidationListener() {
        @Override
        public void invalidateRangeStart(long start, long end, InvalidationCause cause) {
            events.add(new Event("start", start, end, cause, observe(start)));
        }

        @Override
        public void invalidateRangeEnd(long start, long end, InvalidationCause cause) {
            events.add(new Event("end", start, end, cause, observe(start)));
        }
    };

    private String observe(long hva) {
        try {
            return "val " + host.read64(hva) + " prot " + host.protectionAt(hva).orElseThrow();
        } catch (HostFault fault) {
            return fault.kind().toString();
        }
    }

    @BeforeEach
    void setUp() {
        host = new HostMemory();
        host.addInvalidationListener(recorder);
    }

    @AfterEach
    void tearDown() {
        host.close();
    }

    private long map(long length) {
        long hva = host.mmap(length);
        assertTrue(hva > 0);
        return hva;
    }

    @Test
    void mmapAndAccessesDoNotInvalidate() {
        long hva = map(4 * PAGE_SIZE);
        host.write64(hva, 1);
        host.read64(hva);
        host.resolvePage(hva, true);
        assertEquals(List.of(), events);
    }

    @Test
    void collapseInvalidatesTheWhole2MiBBlocksAndKeepsTheData() {
        long block = 2L << 20;
        long hva = map(3 * block);
        long aligned = (hva + PAGE_SIZE + block - 1) & -block; // above hva: the mapping starts before it
        host.write64(aligned + PAGE_SIZE, 0x77);
        // A range holding no whole block collapses nothing; nobody is told.
        assertEquals(Errno.EINVAL, host.madvise(aligned + PAGE_SIZE, PAGE_SIZE, Advice.COLLAPSE));
        assertEquals(List.of(), events);
        // A range from a page before the aligned block to a page after it: only that block changes.
        assertEquals(0, host.madvise(aligned - PAGE_SIZE, block + 2 * PAGE_SIZE, Advice.COLLAPSE));
        assertEquals(List.of(
                new Event("start", aligned, aligned + block, InvalidationCause.COLLAPSE, "val 0 prot READ_WRITE"),
                new Event("end", aligned, aligned + block, InvalidationCause.COLLAPSE, "val 0 prot READ_WRITE")),
                events);
        assertEquals(0x77, host.read64(aligned + PAGE_SIZE));
        assertTrue(host.isWrittenSinceDiscard(aligned + 2 * PAGE_SIZE), "every page of a huge page is a real page");
    }

    @Test
    void cuttingIntoAHugeAdvisedBlockAnnouncesTheWholeBlockAsTheSplitDoes() {
        long block = 2L << 20;
        long hva = map(4 * block);
        long aligned = (hva + block - 1) & -block;
        assertEquals(0, host.madvise(aligned, 2 * block, Advice.HUGEPAGE));
        long page = aligned + 5 * PAGE_SIZE;
        assertEquals(0, host.madvise(page, PAGE_SIZE, Advice.DONTNEED));
        assertEquals(0, host.mprotect(page, PAGE_SIZE, Protection.READ));
        // Across the boundary of the two advised blocks: both are cut.
        assertEquals(0, host.mprotect(aligned + block - PAGE_SIZE, 2 * PAGE_SIZE, Protection.READ));
        // Whole blocks, and pages of memory that is not huge-advised: nothing grows.
        assertEquals(0, host.madvise(aligned, block, Advice.DONTNEED));
        assertEquals(0, host.munmap(aligned + 2 * block + PAGE_SIZE, PAGE_SIZE));
        assertEquals(List.of(
                        List.of(page, page + PAGE_SIZE, InvalidationCause.DISCARD),
                        List.of(aligned, aligned + block, InvalidationCause.HUGE_PAGE_SPLIT),
                        List.of(aligned, aligned + block, InvalidationCause.PROTECT),
                        List.of(aligned, aligned + 2 * block, InvalidationCause.PROTECT),
                        List.of(aligned, aligned + block, InvalidationCause.DISCARD),
                        List.of(aligned + 2 * block + PAGE_SIZE, aligned + 2 * block + 2 * PAGE_SIZE,
                                InvalidationCause.UNMAP)),
                events.stream().filter(e -> e.phase().equals("start"))
                        .map(e -> List.<Object>of(e.start(), e.end(), e.cause())).toList());
    }

    @Test
    void dontneedIsAnnouncedWhileTheOldDataIsStillVisible() {
        long hva = map(4 * PAGE_SIZE);
        host.write64(hva + PAGE_SIZE, 0x77);
        assertEquals(0, host.madvise(hva + PAGE_SIZE, 2 * PAGE_SIZE - 1, Advice.DONTNEED));
        long s = hva + PAGE_SIZE;
        long e = hva + 3 * PAGE_SIZE;
        assertEquals(List.of(
                new Event("start", s, e, InvalidationCause.DISCARD, "val 119 prot READ_WRITE"),
                new Event("end", s, e, InvalidationCause.DISCARD, "val 0 prot READ_WRITE")), events);
    }

    @Test
    void munmapIsAnnouncedBeforeThePagesDisappear() {
        long hva = map(4 * PAGE_SIZE);
        host.write64(hva + PAGE_SIZE, 5);
        assertEquals(0, host.munmap(hva + PAGE_SIZE, PAGE_SIZE + 1));
        long s = hva + PAGE_SIZE;
        long e = hva + 3 * PAGE_SIZE;
        assertEquals(List.of(
                new Event("start", s, e, InvalidationCause.UNMAP, "val 5 prot READ_WRITE"),
                new Event("end", s, e, InvalidationCause.UNMAP, "UNMAPPED")), events);
    }

    @Test
    void mprotectIsAnnouncedBeforeTheProtectionChanges() {
        long hva = map(2 * PAGE_SIZE);
        host.write64(hva, 9);
        assertEquals(0, host.mprotect(hva, 2 * PAGE_SIZE, Protection.READ));
        assertEquals(0, host.mprotect(hva, PAGE_SIZE, Protection.NONE));
        assertEquals(0, host.mprotect(hva, PAGE_SIZE, Protection.READ_WRITE));
        assertEquals(List.of(
                new Event("start", hva, hva + 2 * PAGE_SIZE, InvalidationCause.PROTECT, "val 9 prot READ_WRITE"),
                new Event("end", hva, hva + 2 * PAGE_SIZE, InvalidationCause.PROTECT, "val 9 prot READ"),
                new Event("start", hva, hva + PAGE_SIZE, InvalidationCause.PROTECT, "val 9 prot READ"),
                new Event("end", hva, hva + PAGE_SIZE, InvalidationCause.PROTECT, "PROTECTION"),
                new Event("start", hva, hva + PAGE_SIZE, InvalidationCause.PROTECT, "PROTECTION"),
                new Event("end", hva, hva + PAGE_SIZE, InvalidationCause.PROTECT, "val 9 prot READ_WRITE")),
                events);
    }

    @Test
    void munmapAnnouncesItsWholeRangeOnceAndNothingWhenNothingIsMapped() {
        long hva = map(3 * PAGE_SIZE);
        assertEquals(0, host.munmap(hva + PAGE_SIZE, PAGE_SIZE));
        events.clear();
        assertEquals(0, host.munmap(hva + PAGE_SIZE, PAGE_SIZE));
        assertEquals(List.of(), events, "nothing mapped, nothing to invalidate");
        assertEquals(0, host.munmap(hva, 3 * PAGE_SIZE));
        assertEquals(List.of(
                new Event("start", hva, hva + 3 * PAGE_SIZE, InvalidationCause.UNMAP, "val 0 prot READ_WRITE"),
                new Event("end", hva, hva + 3 * PAGE_SIZE, InvalidationCause.UNMAP, "UNMAPPED")), events);
    }

    @Test
    void dontneedAnnouncesEachMappedRunAndMprotectOnlyItsMappedPrefix() {
        long hva = map(5 * PAGE_SIZE);
        assertEquals(0, host.munmap(hva + 2 * PAGE_SIZE, PAGE_SIZE));
        events.clear();
        assertEquals(Errno.ENOMEM, host.madvise(hva, 5 * PAGE_SIZE, Advice.DONTNEED));
        assertEquals(List.of(
                new Event("start", hva, hva + 2 * PAGE_SIZE, InvalidationCause.DISCARD, "val 0 prot READ_WRITE"),
                new Event("end", hva, hva + 2 * PAGE_SIZE, InvalidationCause.DISCARD, "val 0 prot READ_WRITE"),
                new Event("start", hva + 3 * PAGE_SIZE, hva + 5 * PAGE_SIZE, InvalidationCause.DISCARD,
                        "val 0 prot READ_WRITE"),
                new Event("end", hva + 3 * PAGE_SIZE, hva + 5 * PAGE_SIZE, InvalidationCause.DISCARD,
                        "val 0 prot READ_WRITE")), events);
        events.clear();
        assertEquals(Errno.ENOMEM, host.mprotect(hva, 5 * PAGE_SIZE, Protection.READ));
        assertEquals(List.of(
                new Event("start", hva, hva + 2 * PAGE_SIZE, InvalidationCause.PROTECT, "val 0 prot READ_WRITE"),
                new Event("end", hva, hva + 2 * PAGE_SIZE, InvalidationCause.PROTECT, "val 0 prot READ")), events);
        events.clear();
        assertEquals(Errno.ENOMEM, host.mprotect(hva + 2 * PAGE_SIZE, PAGE_SIZE, Protection.READ));
        assertEquals(List.of(), events, "nothing changes, nothing is announced");
    }

    @Test
    void hugePageAdviceDoesNotInvalidate() {
        long hva = map(4 * PAGE_SIZE);
        assertEquals(0, host.madvise(hva, 4 * PAGE_SIZE, Advice.HUGEPAGE));
        assertEquals(0, host.madvise(hva, 4 * PAGE_SIZE, Advice.NOHUGEPAGE));
        assertEquals(List.of(), events);
    }

    @Test
    void closeAnnouncesTheUnmapOfEveryMapping() {
        long hva = map(2 * PAGE_SIZE);
        host.close();
        assertEquals(List.of(
                new Event("start", hva, hva + 2 * PAGE_SIZE, InvalidationCause.UNMAP, "val 0 prot READ_WRITE"),
                new Event("end", hva, hva + 2 * PAGE_SIZE, InvalidationCause.UNMAP, "UNMAPPED")), events);
    }

    @Test
    void removedListenersHearNothing() {
        long hva = map(PAGE_SIZE);
        host.removeInvalidationListener(recorder);
        assertEquals(0, host.madvise(hva, PAGE_SIZE, Advice.DONTNEED));
        assertEquals(List.of(), events);
    }
}
