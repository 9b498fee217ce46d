package dev.guestmem.host;

import static dev.guestmem.host.HostMemory.PAGE_SIZE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class WrittenPagesTest {
    private static final long BASE = 0x7f00_0000_0000L; // 2 MiB aligned: chunk boundaries at BASE + k * 512 pages
    private static final long CHUNK = 512 * PAGE_SIZE;

    @Test
    void marksArePerPage() {
        WrittenPages written = new WrittenPages();
        written.mark(BASE + PAGE_SIZE + 100);
        assertTrue(written.isMarked(BASE + PAGE_SIZE));
        assertTrue(written.isMarked(BASE + 2 * PAGE_SIZE - 1));
        assertFalse(written.isMarked(BASE));
        assertFalse(written.isMarked(BASE + 2 * PAGE_SIZE));
        assertFalse(written.isMarked(BASE + PAGE_SIZE + 64 * PAGE_SIZE), "bit 1 vs bit 65: same word index mod 64");
    }

    @Test
    void markRangeCoversEveryOverlappedPageAcrossChunks() {
        WrittenPages written = new WrittenPages();
        written.markRange(BASE + CHUNK - PAGE_SIZE - 8, BASE + CHUNK + 1);
        assertFalse(written.isMarked(BASE + CHUNK - 3 * PAGE_SIZE));
        assertTrue(written.isMarked(BASE + CHUNK - 2 * PAGE_SIZE), "the range starts in its last word");
        assertTrue(written.isMarked(BASE + CHUNK - PAGE_SIZE));
        assertTrue(written.isMarked(BASE + CHUNK));
        assertFalse(written.isMarked(BASE + CHUNK + PAGE_SIZE));
    }

    @Test
    void clearRemovesExactlyTheRangeWithPartialAndWholeChunks() {
        WrittenPages written = new WrittenPages();
        long[] pages = {0, 1, 63, 64, 511, 512, 700, 1023, 1024, 1600};
        for (long page : pages) {
            written.mark(BASE + page * PAGE_SIZE);
        }
        written.clear(BASE + PAGE_SIZE, BASE + 1024 * PAGE_SIZE); // pages 1..1023: partial, then whole chunk
        for (long page : pages) {
            boolean expected = page == 0 || page >= 1024;
            assertEquals(expected, written.isMarked(BASE + page * PAGE_SIZE), "page " + page);
        }
    }

    @Test
    void clearOfAHugeSparseRangeVisitsOnlyExistingChunks() {
        WrittenPages written = new WrittenPages();
        long sixtyFourGiB = 64L << 30;
        written.mark(BASE);
        written.mark(BASE + sixtyFourGiB - PAGE_SIZE);
        written.mark(BASE + sixtyFourGiB);
        written.clear(BASE, BASE + sixtyFourGiB);
        assertFalse(written.isMarked(BASE));
        assertFalse(written.isMarked(BASE + sixtyFourGiB - PAGE_SIZE));
        assertTrue(written.isMarked(BASE + sixtyFourGiB), "the page just past the range stays marked");
    }
}
