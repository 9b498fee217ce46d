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
}
