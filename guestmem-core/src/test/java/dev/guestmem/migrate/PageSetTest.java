package dev.guestmem.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PageSetTest {
    @Test
    void allCoversExactlyTheSlotsPages() {
        PageSet all = PageSet.all(2, 70);
        assertEquals(140, all.count());
        assertEquals(69, all.next(1, 69));
        assertEquals(-1, all.next(1, 70));
    }

    @Test
    void nextFindsPagesAcrossWords() {
        PageSet s = new PageSet(1, 300);
        s.add(0, 3);
        s.add(0, 200);
        assertEquals(3, s.next(0, 0));
        assertEquals(200, s.next(0, 4));
        assertEquals(-1, s.next(0, 201));
        s.remove(0, 200);
        assertFalse(s.contains(0, 200));
        PageSet t = new PageSet(1, 300);
        t.addBitmap(0, new long[] {0, 0, 0, 1L << 63, 0});
        s.addAll(t);
        assertTrue(s.contains(0, 255));
        assertEquals(2, s.count());
    }
}
