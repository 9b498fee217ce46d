package dev.guestmem.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.guestmem.memslot.MemslotFlags;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The memslot table a trace may leave: certain outcomes replace a layout, uncertain ones keep both. */
class PossibleSlotsTest {
    private static final long PAGE = 0x1000;
    private static final HvaKey A = new HvaKey(0, 0);
    private static final HvaKey B = new HvaKey(1, 0);

    private final PossibleSlots slots = new PossibleSlots();

    private void request(int slot, int flags, long gpa, long size, HvaKey hva) {
        slots.apply(new SlotRequest(slot, flags, gpa, size, hva, false));
    }

    /** Every layout as {@code gpa/flags}, sorted. */
    private Set<String> layouts() {
        return slots.layouts().map(l -> Long.toHexString(l.baseGfn() * PAGE) + "/" + l.flags())
                .collect(Collectors.toCollection(TreeSet::new));
    }

    @Test
    void certainOutcomesReplaceTheLayout() {
        request(0, 0, 0x10000, 2 * PAGE, A);
        request(1, 0, 0x11000, PAGE, B); // EEXIST: slot 0 is surely there
        request(0, MemslotFlags.LOG_DIRTY_PAGES, 0x10000, 2 * PAGE, A);
        assertEquals(Set.of("10000/1"), layouts());
        request(0, 0, 0x10000, 3 * PAGE, A); // another size: EINVAL
        request(0, MemslotFlags.READONLY | MemslotFlags.LOG_DIRTY_PAGES, 0x10000, 2 * PAGE, A); // READONLY: EINVAL
        request(0, MemslotFlags.LOG_DIRTY_PAGES, 0x10000, 2 * PAGE, new HvaKey(0, PAGE)); // another hva: EINVAL
        assertEquals(Set.of("10000/1"), layouts());
        request(0, 0, 0x40000, 0, HvaKey.raw(0));
        assertEquals(Set.of(), layouts());
        request(2, 0, 0xFFFFFFFFFF000L, 2 * PAGE, A); // past the MMU's last gfn
        assertEquals(Set.of(), layouts());
    }

    @Test
    void flagChangesKeepTheIncarnationMovesStartANewOne() {
        request(0, 0, 0x10000, PAGE, A);
        int created = onlyLayout().incarnation();
        request(0, MemslotFlags.LOG_DIRTY_PAGES, 0x10000, PAGE, A);
        assertEquals(created, onlyLayout().incarnation());
        request(0, MemslotFlags.LOG_DIRTY_PAGES, 0x20000, PAGE, A);
        assertNotEquals(created, onlyLayout().incarnation());
    }

    private PossibleSlots.Layout onlyLayout() {
        List<PossibleSlots.Layout> all = slots.layouts().toList();
        assertEquals(1, all.size(), all::toString);
        return all.get(0);
    }

    @Test
    void uncertainOutcomesKeepBoth() {
        request(0, 0, 0x10000, PAGE, A);
        // Another binding may share the old address (a reused reservation): the toggle may be refused.
        request(0, MemslotFlags.LOG_DIRTY_PAGES, 0x10000, PAGE, B);
        assertEquals(Set.of("10000/0", "10000/1"), layouts());
        // Slot 0 may be absent no more, but slot 1 may be in the way of slot 2 or not.
        request(1, 0, 0x20000, PAGE, A);
        request(1, 0, 0x30000, PAGE, B);
        request(2, 0, 0x30000, PAGE, A);
        assertEquals(Set.of("10000/0", "10000/1", "20000/0", "30000/0"), layouts());
        assertEquals(2, slots.layouts().filter(l -> l.baseGfn() == 0x30).count()); // slot 1's and slot 2's
    }

    @Test
    void guestMemfdsAndLargeSlots() {
        request(0, MemslotFlags.GUEST_MEMFD, 0x10000, PAGE, A); // a raw fd never binds
        assertEquals(Set.of(), layouts());
        slots.apply(new SlotRequest(0, MemslotFlags.GUEST_MEMFD, 0x10000, PAGE, A, true));
        assertEquals(Set.of("10000/4"), layouts());
        request(0, 0, 0x10000, 0, A);
        request(1, 0, 0x100000000L, 1L << 31, A); // 2 GiB: the allocation may fail, a slot of 1 later may fit
        request(2, 0, 0x100000000L, PAGE, B);
        assertEquals(Set.of("100000000/0"), layouts());
        assertEquals(2, slots.layouts().count());
    }
}
