package dev.guestmem.memslot;

/**
 * A vCPU's last-used-slot cache ({@code vcpu->last_used_slot} and {@code last_used_slot_gen}): valid
 * only while the generation it was filled under is still the set's generation (spec §2.2). Owned by
 * one vCPU thread, so it needs no synchronization.
 */
public final class VcpuSlotCache {
    Memslot slot;
    long generation;

    /** Forgets the cached slot. */
    public void reset() {
        slot = null;
    }

    /**
     * The cached slot if it contains {@code gfn}, else {@code null}; first forgets the slot if it was
     * cached under another generation than {@code setGeneration} (spec §2.2).
     */
    Memslot probe(long setGeneration, long gfn) {
        if (generation != setGeneration) {
            slot = null;
            generation = setGeneration;
            return null;
        }
        Memslot s = slot;
        return s != null && s.contains(gfn) ? s : null;
    }

    /** Caches {@code found} (the result of a search after {@link #probe} missed) when there is one. */
    void remember(Memslot found) {
        if (found != null) {
            slot = found;
        }
    }
}
