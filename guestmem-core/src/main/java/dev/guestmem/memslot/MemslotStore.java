package dev.guestmem.memslot;

/**
 * All memslot sets of one VM, for every address space: the read side ({@link #active}) used without
 * locks inside SRCU read sections, and the one write operation the update flow of spec §2.6 is built
 * from. Writers are serialized by the caller ({@code slots_lock}).
 */
public interface MemslotStore {
    /** Number of address spaces in use ({@code kvm_arch_nr_memslot_as_ids}). */
    int addressSpaces();

    /** The active set of {@code asId}; call inside an SRCU read section. */
    MemslotSet active(int asId);

    /**
     * Replaces the slot with id {@code id} in address space {@code asId} by {@code next} ({@code null}
     * removes it; no slot with that id means insert), publishes the result as the active set with the
     * generation protocol of spec §2.4, and returns after a grace period, when no reader can still see
     * the set that was active before. The INVALID step of DELETE and MOVE is one such call with the
     * INVALID copy, so DELETE and MOVE cost two grace periods and CREATE and FLAGS_ONLY one.
     */
    void install(int asId, int id, Memslot next);

    /** Which design this store implements. */
    MemslotImpl impl();
}
