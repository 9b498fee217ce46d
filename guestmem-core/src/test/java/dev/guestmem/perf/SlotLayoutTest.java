package dev.guestmem.perf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class SlotLayoutTest {
    @Test
    void theSelftestsDefaultSplitGivesFourPagesPerSlotAndFortyToTheLast() {
        SlotLayout layout = SlotLayout.of(32763, PerfTest.RW.memPages()).orElseThrow();
        assertEquals(4, layout.pagesPerSlot());
        assertEquals(16 << 10, layout.bytes(1));
        assertEquals(160 << 10, layout.bytes(32763));
        assertEquals(0x1000_0000L, layout.gpa(1));
        assertEquals(0x1000_0000L + 32762L * 4 * 4096, layout.gpa(32763));
        assertEquals(0x3001_0000L, SlotLayout.MOVE_DEST_GPA);
    }

    @Test
    void unmapWithAllSlotsHasOnePagePerSlotAndTheRemainderLast() {
        SlotLayout layout = SlotLayout.of(32763, PerfTest.UNMAP.memPages()).orElseThrow();
        assertEquals(1, layout.pagesPerSlot());
        assertEquals(22 * 4096, layout.bytes(32763));
        assertEquals(32763, layout.slotOf(layout.gpa(32763) + 21 * 4096));
        assertEquals(5, layout.slotOf(layout.gpa(5)));
    }

    @Test
    void mapIsInfeasiblePast8208DataSlots() {
        assertEquals(Optional.empty(), SlotLayout.infeasibility(PerfTest.MAP, 8208));
        assertEquals(Optional.of("Memslot count too high for this test, decrease the cap (max is 8209)"),
                SlotLayout.infeasibility(PerfTest.MAP, 8209));
    }

    @Test
    void movesNeedALastSlotOfAtLeastHalfTheMoveArea() {
        // 131088 / 13108 = 10 pages per slot, 8 left over: an 18-page (72 KiB) last slot.
        assertTrue(SlotLayout.infeasibility(PerfTest.MOVE_ACTIVE, 13108).orElseThrow().startsWith("Memslot count may"));
        assertEquals(Optional.empty(), SlotLayout.infeasibility(PerfTest.MOVE_INACTIVE, 32763));
        assertEquals(Optional.empty(), SlotLayout.infeasibility(PerfTest.RW, 13108), "only the move tests care");
    }
}
