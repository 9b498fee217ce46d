package dev.guestmem.fuzz;

import dev.guestmem.trace.HvaOperand;
import java.util.Objects;

/**
 * A memslot layout the generator asked for: the fields of one region line. Whether the kernel accepted
 * it the generator does not know; it only uses plans to aim later operations (moves, accesses, dirty
 * logs) where something may be.
 */
record SlotPlan(int slot, int flags, long gpa, long size, HvaOperand hva) {
    SlotPlan {
        Objects.requireNonNull(hva, "hva");
    }

    long pages() {
        return size >>> 12;
    }

    SlotPlan withSlot(int newSlot) {
        return new SlotPlan(newSlot, flags, gpa, size, hva);
    }

    SlotPlan withFlags(int newFlags) {
        return new SlotPlan(slot, newFlags, gpa, size, hva);
    }

    SlotPlan withGpa(long newGpa) {
        return new SlotPlan(slot, flags, newGpa, size, hva);
    }

    SlotPlan withSize(long newSize) {
        return new SlotPlan(slot, flags, gpa, newSize, hva);
    }

    SlotPlan withHva(HvaOperand newHva) {
        return new SlotPlan(slot, flags, gpa, size, newHva);
    }
}
