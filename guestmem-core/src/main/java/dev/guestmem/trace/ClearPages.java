package dev.guestmem.trace;

import java.util.List;

/**
 * The {@code LIST} operand of {@code clear}: which slot page indexes have their bit set in the
 * caller's bitmap.
 */
public sealed interface ClearPages {
    /** {@code all}: every page of the window {@code [FIRST, FIRST+NUM)}. */
    record All() implements ClearPages {
    }

    /** {@code -}: no bit set. */
    record None() implements ClearPages {
    }

    /**
     * Explicit slot page indexes, ascending and distinct. Each lies in the bitmap userspace passes,
     * i.e. in {@code [FIRST, FIRST + ALIGN(NUM, 64))}: the tail of the last 64-bit word may carry bits
     * past {@code NUM}, as a real caller's buffer can (spec §4.4 step 9).
     */
    record Listed(List<Long> pages) implements ClearPages {
        public Listed {
            pages = List.copyOf(pages);
        }
    }
}
