package dev.guestmem.fuzz;

import dev.guestmem.trace.HvaOperand;
import java.util.function.ToIntFunction;

/**
 * A memslot's hva as far as it can be known without replaying: the mapping binding a NAME had when the
 * line was written (bindings are numbered in the order the names were bound) and the offset into it, or,
 * for a raw address, {@link #RAW} and the address itself.
 *
 * @param binding the binding's number, or {@link #RAW}
 * @param offset the offset into the mapping, or the raw address
 */
record HvaKey(int binding, long offset) {
    /** The binding of a raw address. */
    static final int RAW = -1;

    /** The key of the raw address {@code address}. */
    static HvaKey raw(long address) {
        return new HvaKey(RAW, address);
    }

    /** The key of {@code hva}; {@code bindingOf} numbers the binding of its name, if it has one. */
    static HvaKey of(HvaOperand hva, ToIntFunction<String> bindingOf) {
        return switch (hva) {
            case HvaOperand.Named n -> new HvaKey(bindingOf.applyAsInt(n.name()), n.offset());
            case HvaOperand.Address a -> raw(a.value());
        };
    }

    boolean isRaw() {
        return binding == RAW;
    }
}
