package dev.guestmem.fuzz;

import dev.guestmem.memslot.KvmLimits;

/**
 * Guest-physical addresses for the generator. Slots cluster around a few anchors so that layouts meet:
 * overlaps, moves onto neighbours and accesses that hit. Most anchors lie below 4 GiB, where guest
 * accesses can reach them; a few lie above, up to the MMU's last gfn.
 */
final class GpaChoices {
    static final long PAGE = KvmLimits.PAGE_SIZE;
    /** Below 4 GiB, clear of the reserved window (0xFFC00000 and 0xFFF00000 flank it). */
    private static final long[] LOW_ANCHORS = {0x0L, 0x1000L, 0x10000L, 0x100000L, 0x200000L, 0x1000000L,
        0x40000000L, 0x80000000L, 0xC0000000L, 0xFFC00000L, 0xFFF00000L};
    /** Above 4 GiB: slots only, up to the last gfn the MMU accepts (KMS-17). */
    private static final long[] HIGH_ANCHORS = {1L << 32, 0x7F00000000L, 0xFFFFFFF00000L,
        (1L << KvmLimits.MAX_GPA_BITS) - 0x100000L};
    /** Anchors are followed by up to this many pages of offset. */
    private static final int SPREAD_PAGES = 16;
    private static final int ATTEMPTS = 16;

    private final Dice dice;

    GpaChoices(Dice dice) {
        this.dice = dice;
    }

    /** A page-aligned gpa near an anchor. */
    long page() {
        long anchor = dice.chance(0.9) ? dice.pick(LOW_ANCHORS) : dice.pick(HIGH_ANCHORS);
        return anchor + PAGE * dice.below(SPREAD_PAGES);
    }

    /** A page-aligned gpa where {@code size} bytes stay clear of the reserved window (rule RESERVED_GPAS). */
    long forRange(long size) {
        for (int i = 0; i < ATTEMPTS; i++) {
            long gpa = page();
            if (!ReservedForRunner.meetsWindow(gpa, size)) {
                return gpa;
            }
        }
        return 0; // generated sizes are far below the window's start
    }

    /** An 8-byte aligned gpa a guest access may use (rules ACCESSES_BELOW_4GIB, RESERVED_GPAS), or 0. */
    static long reachableOrZero(long gpa) {
        long aligned = gpa & -Long.BYTES;
        return ReservedForRunner.isReachable(aligned) ? aligned : 0;
    }

    /** A reachable gpa near a low anchor, at an interesting place in its page. */
    long access() {
        return reachableOrZero(dice.pick(LOW_ANCHORS) + PAGE * dice.below(SPREAD_PAGES) + Values.wordInPage(dice));
    }
}
