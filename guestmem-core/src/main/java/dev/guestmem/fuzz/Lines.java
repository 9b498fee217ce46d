package dev.guestmem.fuzz;

import dev.guestmem.trace.HvaOperand;

/** How the generator spells operands (trace-format.md, lexical rules). */
final class Lines {
    private Lines() {
    }

    /** {@code 0x} and lowercase hex digits, as unsigned 64-bit. */
    static String hex(long value) {
        return "0x" + Long.toHexString(value);
    }

    /** A u32 operand (slot id, flags) in decimal: the bits as an unsigned number. */
    static String u32(int value) {
        return Integer.toUnsignedString(value);
    }

    /** {@code NAME}, {@code NAME+0xOFF} or a raw number. */
    static String hva(HvaOperand hva) {
        return switch (hva) {
            case HvaOperand.Named n -> n.offset() == 0 ? n.name() : n.name() + "+" + hex(n.offset());
            case HvaOperand.Address a -> hex(a.value());
        };
    }
}
