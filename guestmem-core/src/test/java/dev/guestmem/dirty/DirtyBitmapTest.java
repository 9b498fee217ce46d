package dev.guestmem.dirty;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The two-half bitmap of spec §4.1: layout, INITIALLY_SET, reaping. */
class DirtyBitmapTest {
    @Test
    void layoutIsLittleEndianBitsIn64BitWords() {
        DirtyBitmap b = DirtyBitmap.allocate(130);
        assertEquals(3, b.words());
        b.markDirty(0);
        b.markDirty(65);
        b.markDirty(129);
        b.markDirty(65); // again: no change
        long[] out = new long[3];
        b.copyLive(out, 3);
        assertArrayEquals(new long[] {1, 2, 2}, out);
        assertTrue(b.isDirty(129));
        assertFalse(b.isDirty(128));
        assertFalse(b.isDirty(130), "past the slot");
        assertThrows(IndexOutOfBoundsException.class, () -> b.markDirty(130));
        assertThrows(IndexOutOfBoundsException.class, () -> b.markDirty(-1));
    }

    @Test
    void initiallySetSetsExactlyTheSlotsPages() {
        DirtyBitmap b = DirtyBitmap.allocate(70);
        b.setAll();
        long[] out = new long[2];
        b.copyLive(out, 2);
        assertArrayEquals(new long[] {-1L, 0x3F}, out);
        DirtyBitmap whole = DirtyBitmap.allocate(128);
        whole.setAll();
        whole.copyLive(out, 2);
        assertArrayEquals(new long[] {-1L, -1L}, out);
    }

    @Test
    void takeAndClearReturnWhatWasSet() {
        DirtyBitmap b = DirtyBitmap.allocate(64);
        b.markDirty(3);
        b.markDirty(5);
        assertEquals(1L << 5, b.clearWord(0, 1L << 5 | 1L << 7), "only bits that were set come back");
        assertEquals(1L << 3, b.liveWord(0));
        assertEquals(1L << 3, b.takeWord(0));
        assertEquals(0, b.liveWord(0));
        assertEquals(0, b.takeWord(0));
    }

    @Test
    void scratchHalfIsSeparate() {
        DirtyBitmap b = DirtyBitmap.allocate(128);
        b.loadScratch(new long[] {7, 9}, 0, 2);
        assertEquals(0, b.liveWord(0));
        assertEquals(9, b.scratch(1));
        b.clearScratch(0, 2);
        assertEquals(0, b.scratch(0));
        assertEquals(2, b.nextNonZeroLive(0), "nothing live");
        b.markDirty(70);
        assertEquals(1, b.nextNonZeroLive(0));
    }
}
