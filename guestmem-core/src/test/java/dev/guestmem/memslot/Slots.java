package dev.guestmem.memslot;

import java.util.ArrayList;
import java.util.List;

/** Test helpers: slot construction, the two-step update flows of spec §2.6, and invariant checks. */
final class Slots {
    private Slots() {
    }

    static Memslot slot(int asId, int id, long baseGfn, long npages, long hva) {
        return new Memslot(asId, id, baseGfn, npages, 0, hva, null);
    }

    static List<Memslot> list(Iterable<Memslot> slots) {
        List<Memslot> out = new ArrayList<>();
        slots.forEach(out::add);
        return out;
    }

    /** CREATE: one install. */
    static Memslot create(MemslotStore store, Memslot slot) {
        store.install(slot.asId(), slot.id(), slot);
        return slot;
    }

    /** DELETE: the INVALID step, then removal. Returns the INVALID copy that was published. */
    static Memslot delete(MemslotStore store, int asId, int id) {
        Memslot invalid = store.active(asId).byId(id).invalidCopy();
        store.install(asId, id, invalid);
        store.install(asId, id, null);
        return invalid;
    }

    /** MOVE: the INVALID step, then the slot at its new base. */
    static Memslot move(MemslotStore store, int asId, int id, long newBase) {
        Memslot old = store.active(asId).byId(id);
        store.install(asId, id, old.invalidCopy());
        Memslot moved = new Memslot(asId, id, newBase, old.npages(), old.flags(), old.userspaceAddr(), null);
        store.install(asId, id, moved);
        return moved;
    }

    /** FLAGS_ONLY: one install of a new object at the same place. */
    static Memslot setFlags(MemslotStore store, int asId, int id, int flags) {
        Memslot old = store.active(asId).byId(id);
        Memslot next = new Memslot(asId, id, old.baseGfn(), old.npages(), flags, old.userspaceAddr(), null);
        store.install(asId, id, next);
        return next;
    }

    /** Both designs' internal consistency checks. */
    static void checkInvariants(MemslotStore store) {
        switch (store) {
            case TreeMemslotStore tree -> tree.checkInvariants();
            case ArrayMemslotStore array -> array.checkInvariants();
            default -> throw new AssertionError("unknown store " + store);
        }
    }

    /** The set-wide last-used cache of a set (package-private view). */
    static Memslot lastUsed(MemslotSet set) {
        return ((AbstractMemslotSet) set).lastUsedSlot();
    }
}
