package dev.guestmem.fuzz;

/** Values the generator writes: 64-bit words to store, and where in a page to store them. */
final class Values {
    private static final long[] EDGES = {0, 1, 0xFF, -1L, Long.MIN_VALUE, Long.MAX_VALUE, 0x1122334455667788L};

    private Values() {
    }

    private static final int PAGE_SIZE = 4096;

    /** An edge of the type or a random word. */
    static long any(Dice dice) {
        return dice.chance(0.5) ? dice.pick(EDGES) : dice.anyLong();
    }

    /**
     * A page index below {@code pages}: half the time the first, second or last page (where slots at a
     * mapping's start put the pages guest accesses favour), else any, so that guest and host accesses
     * meet on the same pages.
     */
    static long page(Dice dice, long pages) {
        long last = pages - 1;
        return dice.chance(0.5) ? Math.min(last, dice.pick(0, 1, last)) : dice.between(0, last);
    }

    /** An 8-aligned offset into a page: mostly one of a few (so accesses meet), else any. */
    static long wordInPage(Dice dice) {
        return switch (dice.below(8)) {
            case 0, 1, 2 -> 0;
            case 3 -> Long.BYTES;
            case 4, 5 -> PAGE_SIZE - Long.BYTES;
            default -> (long) Long.BYTES * dice.below(PAGE_SIZE / Long.BYTES);
        };
    }
}
