package dev.guestmem.fuzz;

import dev.guestmem.memslot.KvmLimits;
import dev.guestmem.memslot.MemslotFlags;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The generator's guess at the slot table: which of the layouts it asked for the kernel accepted, by a
 * rough reading of spec §1.1 steps 15-21 (deletion, modification, move, overlap, last gfn). Only used to
 * aim later lines where slots probably are; the replays decide what really happened, so the guess need
 * not be exact (it ignores, for instance, that a request with an hva the kernel sees differently after
 * a rebinding of its name is a different request).
 */
final class ExpectedSlots {
    private record Slot(SlotPlan plan, HvaKey hva) {
    }

    private static final long LAST_GPA_END = (KvmLimits.MAX_GFN + 1) << KvmLimits.PAGE_SHIFT;

    private final Map<Integer, Slot> slots = new TreeMap<>();

    /** Applies a request the argument checks accept; returns whether it is expected to succeed. */
    boolean apply(SlotPlan plan, HvaKey hva) {
        Slot old = slots.get(plan.slot());
        if (plan.size() == 0) {
            return slots.remove(plan.slot()) != null;
        }
        if ((plan.flags() & MemslotFlags.GUEST_MEMFD) != 0) {
            return false; // no guest_memfd is ever open, so binding one fails (spec §5.4)
        }
        if (Long.compareUnsigned(plan.gpa() + plan.size(), LAST_GPA_END) > 0) {
            return false;
        }
        if (old != null) {
            boolean reshaped = !old.hva().equals(hva) || old.plan().size() != plan.size()
                    || ((old.plan().flags() ^ plan.flags()) & MemslotFlags.READONLY) != 0;
            if (reshaped) {
                return false;
            }
        }
        if ((old == null || old.plan().gpa() != plan.gpa()) && overlapsAnother(plan)) {
            return false;
        }
        slots.put(plan.slot(), new Slot(plan, hva));
        return true;
    }

    List<SlotPlan> all() {
        return slots.values().stream().map(Slot::plan).toList();
    }

    Optional<SlotPlan> get(int id) {
        return Optional.ofNullable(slots.get(id)).map(Slot::plan);
    }

    private boolean overlapsAnother(SlotPlan plan) {
        long end = plan.gpa() + plan.size();
        return slots.values().stream().map(Slot::plan).anyMatch(other -> other.slot() != plan.slot()
                && Long.compareUnsigned(other.gpa(), end) < 0
                && Long.compareUnsigned(plan.gpa(), other.gpa() + other.size()) < 0);
    }
}
