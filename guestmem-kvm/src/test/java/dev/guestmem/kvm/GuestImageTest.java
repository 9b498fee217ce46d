package dev.guestmem.kvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * The reserved memslot's contents, checked by walking them as the CPU would: every address of the low
 * 4 GiB translates to itself through 2 MiB pages, user-accessible and writable at every level, with A
 * and D preset (so a shadow MMU never maps a page read-only just to catch a D-bit update). Needs no
 * {@code /dev/kvm}.
 */
class GuestImageTest {
    private static final long PRESENT = 1;
    private static final long WRITABLE = 2;
    private static final long USER = 4;
    private static final long ACCESSED = 0x20;
    private static final long DIRTY = 0x40;
    private static final long LARGE = 0x80;
    private static final long ADDRESS_MASK = 0x000F_FFFF_FFFF_F000L;

    private final MemorySegment image = Arena.ofAuto().allocate(ReservedLayout.SIZE);

    GuestImageTest() {
        GuestImage.write(image);
    }

    private long entry(long tableGpa, long index) {
        assertTrue(ReservedLayout.isReserved(tableGpa), "page table outside the reserved slot");
        return image.get(ValueLayout.JAVA_LONG, tableGpa - ReservedLayout.BASE + index * 8);
    }

    /** The 4-level walk of {@code va}; asserts P, R/W and U/S on the way. */
    private long translate(long va) {
        long table = ReservedLayout.PML4;
        int[] shifts = {39, 30};
        for (int shift : shifts) {
            long e = entry(table, (va >>> shift) & 511);
            long flags = PRESENT | WRITABLE | USER | ACCESSED;
            assertEquals(flags, e & flags, "table entry flags for " + va);
            assertEquals(0, e & LARGE, "no 1 GiB pages");
            table = e & ADDRESS_MASK;
        }
        long pde = entry(table, (va >>> 21) & 511);
        long flags = PRESENT | WRITABLE | USER | ACCESSED | DIRTY | LARGE;
        assertEquals(flags, pde & flags, "2 MiB page, accessed and dirty, for " + va);
        return (pde & ADDRESS_MASK & ~((1L << 21) - 1)) | (va & ((1L << 21) - 1));
    }

    @Test
    void identityMapsTheLowFourGigabytes() {
        long[] addresses = {0, 0x1000, 0x1FFFF8, 0x200000, 0x40000000, 0x80041000L, 0xC0000000L, 0xD0000000L,
            ReservedLayout.DOORBELL, ReservedLayout.STORE_ENTRY, ReservedLayout.PML4, 0xFFFFFFF8L};
        for (long va : addresses) {
            assertEquals(va, translate(va), "identity map of 0x" + Long.toHexString(va));
        }
    }

    @Test
    void mapsNothingAboveFourGigabytes() {
        long pml4e = entry(ReservedLayout.PML4, 0);
        long pdpt = pml4e & ADDRESS_MASK;
        assertFalse((entry(pdpt, 4) & PRESENT) != 0, "PDPT entry 4 (4-5 GiB) must be absent");
        assertFalse((entry(ReservedLayout.PML4, 1) & PRESENT) != 0, "PML4 entry 1 must be absent");
    }

    @Test
    void stubsStoreOrLoadThroughRdiThenRingTheDoorbell() {
        byte[] store = new byte[8];
        byte[] load = new byte[8];
        MemorySegment.copy(image, ValueLayout.JAVA_BYTE, ReservedLayout.STORE_ENTRY - ReservedLayout.BASE, store, 0, 8);
        MemorySegment.copy(image, ValueLayout.JAVA_BYTE, ReservedLayout.LOAD_ENTRY - ReservedLayout.BASE, load, 0, 8);
        assertArrayEquals(new byte[] {0x48, (byte) 0x89, 0x37, 0x48, (byte) 0x89, 0x03, 0x0F, 0x0B}, store);
        assertArrayEquals(new byte[] {0x48, (byte) 0x8B, 0x07, 0x48, (byte) 0x89, 0x03, 0x0F, 0x0B}, load);
    }

    @Test
    void gdtHoldsRingThreeLongModeSegments() {
        long gdt = ReservedLayout.GDT - ReservedLayout.BASE;
        long code = image.get(ValueLayout.JAVA_LONG, gdt + (ReservedLayout.USER_CODE_SELECTOR & ~7));
        long data = image.get(ValueLayout.JAVA_LONG, gdt + (ReservedLayout.USER_DATA_SELECTOR & ~7));
        assertEquals(0, image.get(ValueLayout.JAVA_LONG, gdt), "null descriptor");
        assertEquals(3, (code >>> 45) & 3, "code DPL");
        assertEquals(1, (code >>> 53) & 1, "code L bit");
        assertEquals(0, (code >>> 54) & 1, "code D bit must be clear in long mode");
        assertEquals(3, (data >>> 45) & 3, "data DPL");
        assertEquals(1, (data >>> 47) & 1, "data present");
    }
}
