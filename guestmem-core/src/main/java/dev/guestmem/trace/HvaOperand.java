package dev.guestmem.trace;

/** A host virtual address operand: {@code NAME}, {@code NAME+OFFSET}, or a raw number. */
public sealed interface HvaOperand {
    /** A host mapping's start plus {@code offset} (0 for a bare {@code NAME}). */
    record Named(String name, long offset) implements HvaOperand {
    }

    /** A raw address, taken as written (so bad addresses can be passed). */
    record Address(long value) implements HvaOperand {
    }
}
