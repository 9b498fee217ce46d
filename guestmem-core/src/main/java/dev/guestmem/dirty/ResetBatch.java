package dev.guestmem.dirty;

/**
 * The coalescing of {@code KVM_RESET_DIRTY_RINGS} (spec §4.6): consecutive freed entries of the same slot
 * whose offsets fit one 64-page window are gathered into one mask, so the pages are re-protected with one
 * masked call per window instead of one per entry. The window follows entries forward (offset within 64
 * pages above its base) and backward (an offset below the base moves the base down, as long as every page
 * gathered so far still fits). Anything else closes the batch and starts the next.
 */
final class ResetBatch {
    /** Re-enables dirty tracking for {@code mask} pages from {@code offset} of slot word {@code slot}. */
    @FunctionalInterface
    interface Sink {
        void protect(int slot, long offset, long mask);
    }

    private final Sink sink;
    private boolean open;
    private int slot;
    private long base;
    private long mask;

    ResetBatch(Sink sink) {
        this.sink = sink;
    }

    /** Adds page {@code offset} of slot word {@code entrySlot}. */
    void add(int entrySlot, long offset) {
        if (open && entrySlot == slot) {
            long delta = offset - base;
            if (delta >= 0 && delta < DirtyBitmap.BITS_PER_WORD) {
                mask |= 1L << delta;
                return;
            }
            long down = -delta;
            if (delta < 0 && down < DirtyBitmap.BITS_PER_WORD
                    && 63 - Long.numberOfLeadingZeros(mask) + down < DirtyBitmap.BITS_PER_WORD) {
                base = offset;
                mask = mask << down | 1L;
                return;
            }
        }
        finish();
        open = true;
        slot = entrySlot;
        base = offset;
        mask = 1L;
    }

    /** Hands the open window, if any, to the sink. */
    void finish() {
        if (open) {
            open = false;
            sink.protect(slot, base, mask);
        }
    }
}
