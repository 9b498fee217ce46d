package dev.guestmem.host;

import static dev.guestmem.host.HostMemory.PAGE_SIZE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.Errno;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
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

    /** The start and end of one invalidation, with what the listener sees at each. */
    private static List<Event> told(long start, long end, InvalidationCause cause, String atStart, String atEnd) {
        return List.of(new Event("start", start, end, cause, atStart), new Event("end", start, end, cause, atEnd));
    }

    /** Concatenation. */
    @SafeVarargs
    private static List<Event> then(List<Event>... parts) {
        return Arrays.stream(parts).flatMap(List::stream).toList();
    }

    private long map(long length) {
        long hva = host.mmap(length);
        assertTrue(hva > 0);
        return hva;
    }

    @Test
    void mmapReadsAndStoresToWrittenPagesDoNotInvalidate() {
        long hva = map(4 * PAGE_SIZE);
        host.read64(hva);
        host.resolvePage(hva, false);
        host.resolvePage(hva, true);
        host.write64(hva, 1);
        host.write(hva, MemorySegment.ofArray(new long[] {2, 3}));
        assertEquals(List.of(), events);
    }

    @Test
    void collapseInvalidatesTheWhole2MiBBlocksAndKeepsTheData() {
        long block = 2L << 20;
        long hva = map(3 * block);
        long aligned = (hva + PAGE_SIZE + block - 1) & -block; // above hva: the mapping starts before it
        host.write64(aligned + PAGE_SIZE, 0x77);
        events.clear(); // the store's copy-on-write break
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
    void changesInsideAHugeAdvisedFrameAnnounceTheSplitOfItsHugePage() {
        long block = 2L << 20;
        long hva = map(4 * block);
        long aligned = (hva + block - 1) & -block;
        assertEquals(0, host.madvise(aligned, 2 * block, Advice.HUGEPAGE));
        long page = aligned + 5 * PAGE_SIZE;
        // A discard of one page splits the frame's huge page inside its own invalidation.
        assertEquals(0, host.madvise(page, PAGE_SIZE, Advice.DONTNEED));
        // mprotect splits the area (VMA) inside the frame: the frame first, then the page itself.
        assertEquals(0, host.mprotect(page, PAGE_SIZE, Protection.READ));
        // Across the boundary of the two advised frames: only the second frame is cut (the first is split
        // already at page 5, and the area starting at page 6 does not cover it).
        assertEquals(0, host.mprotect(aligned + block - PAGE_SIZE, 2 * PAGE_SIZE, Protection.READ));
        // A whole frame: no split.
        assertEquals(0, host.madvise(aligned, block, Advice.DONTNEED));
        // A VMA split announces the frame with or without huge-page advice.
        assertEquals(0, host.munmap(aligned + 2 * block + PAGE_SIZE, PAGE_SIZE));
        assertEquals(List.of(
                        List.of(page, page + PAGE_SIZE, InvalidationCause.DISCARD),
                        List.of(aligned, aligned + block, InvalidationCause.HUGE_PAGE_SPLIT),
                        List.of(aligned, aligned + block, InvalidationCause.HUGE_PAGE_SPLIT),
                        List.of(page, page + PAGE_SIZE, InvalidationCause.PROTECT),
                        List.of(aligned + block, aligned + 2 * block, InvalidationCause.HUGE_PAGE_SPLIT),
                        List.of(aligned + block - PAGE_SIZE, aligned + block + PAGE_SIZE, InvalidationCause.PROTECT),
                        List.of(aligned, aligned + block, InvalidationCause.DISCARD),
                        List.of(aligned + 2 * block, aligned + 3 * block, InvalidationCause.HUGE_PAGE_SPLIT),
                        List.of(aligned + 2 * block + PAGE_SIZE, aligned + 2 * block + 2 * PAGE_SIZE,
                                InvalidationCause.UNMAP)),
                events.stream().filter(e -> e.phase().equals("start"))
                        .map(e -> List.<Object>of(e.start(), e.end(), e.cause())).toList());
    }

    @Test
    void aFirstStoreBreaksCopyOnWriteBeforeTheValueLands() {
        long hva = map(4 * PAGE_SIZE);
        host.read64(hva + PAGE_SIZE);
        host.write64(hva + PAGE_SIZE + 8, 0x55);
        host.write64(hva + PAGE_SIZE + 16, 0x66);
        assertEquals(told(hva + PAGE_SIZE, hva + 2 * PAGE_SIZE, InvalidationCause.COPY_ON_WRITE, "val 0 prot READ_WRITE",
                "val 0 prot READ_WRITE"), events, "once per page, and the store comes after the end");
        assertTrue(host.isWrittenSinceDiscard(hva + PAGE_SIZE));
    }

    @Test
    void aFirstStoreIntoAnEmptyHugeAdvisedFramePopulatesTheWholeFrame() {
        long frame = 2L << 20;
        long hva = map(3 * frame);
        long aligned = (hva + frame - 1) & -frame;
        assertEquals(0, host.madvise(aligned, frame, Advice.HUGEPAGE));
        events.clear();
        host.write64(aligned + 3 * PAGE_SIZE, 1);
        String zeros = "val 0 prot READ_WRITE";
        assertEquals(told(aligned, aligned + frame, InvalidationCause.COPY_ON_WRITE, zeros, zeros), events,
                "a transparent huge page replaces the frame");
        assertTrue(host.isWrittenSinceDiscard(aligned + frame - PAGE_SIZE));
        // Once a page of the frame is gone, later first stores populate single pages again.
        assertEquals(0, host.madvise(aligned, PAGE_SIZE, Advice.DONTNEED));
        events.clear();
        host.write64(aligned, 2);
        assertEquals(told(aligned, aligned + PAGE_SIZE, InvalidationCause.COPY_ON_WRITE, zeros, zeros), events);
    }

    @Test
    void aBulkStoreBreaksEachRunOfNeverWrittenPagesOnce() {
        long hva = map(4 * PAGE_SIZE);
        host.write64(hva + PAGE_SIZE, 1);
        events.clear();
        host.write(hva, MemorySegment.ofArray(new long[(int) (3 * PAGE_SIZE / 8) + 1]));
        String zeros = "val 0 prot READ_WRITE";
        assertEquals(then(told(hva, hva + PAGE_SIZE, InvalidationCause.COPY_ON_WRITE, zeros, zeros),
                told(hva + 2 * PAGE_SIZE, hva + 4 * PAGE_SIZE, InvalidationCause.COPY_ON_WRITE, zeros, zeros)), events);
    }

    @Test
    void aStoreThatFaultsOrADiscardedPageDecidesAgain() {
        long hva = map(2 * PAGE_SIZE);
        assertEquals(0, host.mprotect(hva + PAGE_SIZE, PAGE_SIZE, Protection.READ));
        events.clear();
        MemorySegment twoPages = MemorySegment.ofArray(new long[(int) (PAGE_SIZE / 8) + 1]);
        assertThrows(HostFault.class, () -> host.write(hva, twoPages));
        assertEquals(List.of(), events, "a store refused anywhere breaks nothing");
        host.write64(hva, 7);
        assertEquals(0, host.madvise(hva, PAGE_SIZE, Advice.DONTNEED));
        events.clear();
        host.write64(hva, 8);
        assertEquals(told(hva, hva + PAGE_SIZE, InvalidationCause.COPY_ON_WRITE, "val 0 prot READ_WRITE",
                "val 0 prot READ_WRITE"), events, "a discarded page is the zero page again");
    }

    @Test
    void dontneedIsAnnouncedWhileTheOldDataIsStillVisible() {
        long hva = map(4 * PAGE_SIZE);
        host.write64(hva + PAGE_SIZE, 0x77);
        events.clear();
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
        events.clear();
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
        events.clear();
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
    void mprotectAnnouncesOnlyThePagesWhoseProtectionChanges() {
        long hva = map(4 * PAGE_SIZE);
        assertEquals(0, host.mprotect(hva, 4 * PAGE_SIZE, Protection.READ_WRITE));
        assertEquals(List.of(), events, "already read-write: nothing changes, nothing is announced");
        assertEquals(0, host.mprotect(hva + PAGE_SIZE, PAGE_SIZE, Protection.READ));
        events.clear();
        assertEquals(0, host.mprotect(hva, 4 * PAGE_SIZE, Protection.READ));
        String before = "val 0 prot READ_WRITE";
        String after = "val 0 prot READ";
        assertEquals(then(told(hva, hva + PAGE_SIZE, InvalidationCause.PROTECT, before, after),
                told(hva + 2 * PAGE_SIZE, hva + 4 * PAGE_SIZE, InvalidationCause.PROTECT, before, after)), events,
                "each run that changes, once");
    }

    @Test
    void cuttingAnAreaInsideAWholeTwoMegabyteFrameInvalidatesTheFrame() {
        long mb2 = 2L << 20;
        long hva = map(2 * mb2);
        long frame = (hva + mb2 - 1) & -mb2; // wholly inside the mapping
        assertEquals(0, host.mprotect(frame + PAGE_SIZE, PAGE_SIZE, Protection.READ));
        String before = "val 0 prot READ_WRITE";
        String after = "val 0 prot READ";
        assertEquals(then(told(frame, frame + mb2, InvalidationCause.HUGE_PAGE_SPLIT, before, before),
                told(frame + PAGE_SIZE, frame + 2 * PAGE_SIZE, InvalidationCause.PROTECT, before, after)), events,
                "the cut at the end no longer lies in a frame its area covers");
        events.clear();
        assertEquals(0, host.mprotect(frame, PAGE_SIZE, Protection.READ));
        assertEquals(told(frame, frame + PAGE_SIZE, InvalidationCause.PROTECT, before, after), events,
                "a cut at a frame boundary, and one whose area ends inside the frame, split nothing huge");
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
