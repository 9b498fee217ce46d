package dev.guestmem.trace;

/** A guest_memfd operand: a NAME bound by {@code gmem}, or a raw fd number ({@code -1} = none). */
public sealed interface GmemOperand {
    /** The fd that a {@code gmem NAME ...} line returned. */
    record Named(String name) implements GmemOperand {
    }

    /** A raw fd number, taken as written (so bad fds can be passed). */
    record Fd(int fd) implements GmemOperand {
    }
}
