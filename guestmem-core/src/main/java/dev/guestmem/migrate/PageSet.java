package dev.guestmem.migrate;

import java.util.Arrays;

/**
 * A set of guest pages by memslot index and page index, one bitmap per slot in the dirty log's own
 * layout (page {@code p} is bit {@code p % 64} of word {@code p / 64}). Not thread-safe.
 */
final class PageSet {
    private final long[][] bits;
    private final long pagesPerSlot;

    PageSet(int slots, long pagesPerSlot) {
        this.pagesPerSlot = pagesPerSlot;
        this.bits = new long[slots][(int) ((pagesPerSlot + 63) >>> 6)];
    }

    /** Every page of every slot. */
    static PageSet all(int slots, long pagesPerSlot) {
        PageSet set = new PageSet(slots, pagesPerSlot);
        for (long[] slot : set.bits) {
            Arrays.fill(slot, -1L);
            int tail = (int) (pagesPerSlot & 63);
            if (tail != 0) {
                slot[slot.length - 1] = (1L << tail) - 1;
            }
        }
        return set;
    }

    int slots() {
        return bits.length;
    }

    long pagesPerSlot() {
        return pagesPerSlot;
    }

    void add(int slot, long page) {
        bits[slot][(int) (page >>> 6)] |= 1L << page;
    }

    void remove(int slot, long page) {
        bits[slot][(int) (page >>> 6)] &= ~(1L << page);
    }

    boolean contains(int slot, long page) {
        return (bits[slot][(int) (page >>> 6)] & (1L << page)) != 0;
    }

    /** ORs a whole bitmap, in the dirty log's layout, into slot {@code slot}. */
    void addBitmap(int slot, long[] bitmap) {
        long[] mine = bits[slot];
        for (int i = 0; i < mine.length; i++) {
            mine[i] |= bitmap[i];
        }
    }

    /** ORs {@code other} into this set. */
    void addAll(PageSet other) {
        for (int s = 0; s < bits.length; s++) {
            addBitmap(s, other.bits[s]);
        }
    }

    /** Slot {@code slot}'s bitmap (live: do not keep it past changes to the set). */
    long[] bitmap(int slot) {
        return bits[slot];
    }

    /** Number of pages in the set. */
    long count() {
        long n = 0;
        for (long[] slot : bits) {
            for (long w : slot) {
                n += Long.bitCount(w);
            }
        }
        return n;
    }

    /** The first page of the set at or after {@code from} in slot {@code slot}, or -1. */
    long next(int slot, long from) {
        long[] b = bits[slot];
        int w = (int) (from >>> 6);
        if (w >= b.length) {
            return -1;
        }
        long word = b[w] & (-1L << from);
        while (word == 0) {
            if (++w == b.length) {
                return -1;
            }
            word = b[w];
        }
        return ((long) w << 6) + Long.numberOfTrailingZeros(word);
    }
}
