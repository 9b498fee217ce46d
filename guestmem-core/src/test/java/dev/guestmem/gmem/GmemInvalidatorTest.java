package dev.guestmem.gmem;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.memslot.GmemBinding;
import dev.guestmem.memslot.Memslot;
import dev.guestmem.memslot.MemslotFlags;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The clamping and the begin/end decision of {@link GmemInvalidator} (spec §5.5) on hand-picked cases:
 * ranges inside a binding, starting before it, ending after it, spanning two bindings of one file, and
 * missing every binding. File pages 0..15; slot 1 binds pages 4..7 at gfn 0x100, slot 2 binds pages 8..11
 * at gfn 0x104 (right after slot 1's gfns, so a zap running past slot 1 would hit slot 2).
 */
class GmemInvalidatorTest {
    private static final Object FILE = new Object();
    private static final Memslot SLOT1 = slot(1, 0x100, 4, 4);
    private static final Memslot SLOT2 = slot(2, 0x104, 4, 8);
    private static final List<Memslot> BOUND = List.of(SLOT1, SLOT2);

    private final RecordingTarget target = new RecordingTarget();
    private final GmemInvalidator invalidator = new GmemInvalidator(target);

    static Memslot slot(int id, long baseGfn, long npages, long pgoff) {
        return new Memslot(0, id, baseGfn, npages, MemslotFlags.GUEST_MEMFD, 0, new GmemBinding(FILE, pgoff));
    }

    private List<String> punch(long start, long end) {
        boolean opened = invalidator.invalidate(BOUND, start, end, ZapFilter.PRIVATE,
                () -> target.events.add("change"));
        assertEquals(target.begins == 1, opened);
        assertTrue(target.closed());
        return target.events;
    }

    @Test
    void aRangeInsideOneBindingZapsItsGfnsOnly() {
        assertEquals(List.of("begin", "zap 1 0x101-0x103 PRIVATE", "done", "change", "end"), punch(5, 7));
    }

    @Test
    void aRangeStartingBeforeABindingIsClampedToItsFirstPage() {
        // Unclamped, base + start - pgoff = 0x100 + 2 - 4 would be 0xfe, below the slot.
        assertEquals(List.of("begin", "zap 1 0x100-0x102 PRIVATE", "done", "change", "end"), punch(2, 6));
    }

    @Test
    void aRangeEndingAfterABindingIsClampedToItsLastPage() {
        // Unclamped, slot 1's zap would run to 0x100 + 12 - 4 = 0x108, over all of slot 2's gfns.
        invalidator.invalidate(List.of(SLOT1), 6, 12, ZapFilter.PRIVATE, () -> target.events.add("change"));
        assertEquals(List.of("begin", "zap 1 0x102-0x104 PRIVATE", "done", "change", "end"), target.events);
    }

    @Test
    void aRangeAcrossTheBoundaryOfTwoBindingsSplitsAtIt() {
        assertEquals(List.of("begin", "zap 1 0x102-0x104 PRIVATE", "zap 2 0x104-0x105 PRIVATE", "done", "change",
                "end"), punch(6, 9));
    }

    @Test
    void aRangeSpanningTwoBindingsOfOneFileZapsEachWithinItsSlot() {
        assertEquals(List.of("begin", "zap 1 0x100-0x104 PRIVATE", "zap 2 0x104-0x108 PRIVATE", "done", "change",
                "end"), punch(0, 16));
    }

    @Test
    void aRangeMissingEveryBindingOpensNoWindowButStillChanges() {
        assertEquals(List.of("change"), punch(0, 4));
        target.assertNoWindow();
        target.reset();
        assertEquals(List.of("change"), punch(12, 100));
        target.assertNoWindow();
    }

    @Test
    void theWholeFileUpToAllOnesZapsEverySlotWhole() {
        assertEquals(List.of("begin", "zap 1 0x100-0x104 PRIVATE", "zap 2 0x104-0x108 PRIVATE", "done", "change",
                "end"), punch(0, -1L));
    }

    @Test
    void clampIsEmptyOutsideTheBinding() {
        assertTrue(GmemInvalidator.clamp(SLOT1, 0, 4).isEmpty());
        assertTrue(GmemInvalidator.clamp(SLOT1, 8, 12).isEmpty());
        assertTrue(GmemInvalidator.clamp(SLOT1, 5, 5).isEmpty());
        assertFalse(GmemInvalidator.clamp(SLOT1, 7, 8).isEmpty());
        assertEquals(new GfnRange(0x103, 0x104), GmemInvalidator.clamp(SLOT1, 7, 8));
    }

    @Test
    void theFilterFollowsInitShared() {
        assertEquals(ZapFilter.SHARED, ZapFilter.forGuestMemfd(GuestMemfd.FLAG_MMAP | GuestMemfd.FLAG_INIT_SHARED));
        assertEquals(ZapFilter.PRIVATE, ZapFilter.forGuestMemfd(GuestMemfd.FLAG_MMAP));
        assertEquals(ZapFilter.PRIVATE, ZapFilter.forGuestMemfd(0));
    }

    @Test
    void theWindowClosesEvenIfTheChangeFails() {
        try {
            invalidator.invalidate(BOUND, 4, 5, ZapFilter.PRIVATE, () -> {
                throw new IllegalStateException("truncation failed");
            });
        } catch (IllegalStateException expected) {
            // the point is what happened to the window
        }
        assertEquals(1, target.begins);
        assertEquals(1, target.ends);
    }
}
