package dev.guestmem.memslot;

/**
 * One published memslot set of one address space, as a vCPU or notifier sees it. Every method must be
 * called inside a read-side section of the VM's {@link dev.guestmem.sync.Srcu}, and results must not be
 * used after that section ends. Lookups return INVALID slots too; translations must treat them as
 * absent (spec §2.2), notifier walks as present (spec §3.2).
 */
public interface MemslotSet {
    int asId();

    /** The generation: unique per address space, with bit 63 set while an update is publishing. */
    long generation();

    /** Number of slots in the set. */
    int size();

    /** {@code id_to_memslot}: the slot with this id, or {@code null}. */
    Memslot byId(int id);

    /** {@code __gfn_to_memslot}: exact lookup through the set-wide last-used cache (updated on a miss). */
    Memslot lookup(long gfn);

    /**
     * {@code kvm_vcpu_gfn_to_memslot}: exact lookup through a vCPU's own cache, which is reset when the
     * generation changed; on a miss the set-wide cache is left alone.
     */
    Memslot lookup(long gfn, VcpuSlotCache cache);

    /**
     * {@code search_memslots}: exact lookup without caches; with {@code approx}, a slot bordering the hole
     * when no slot contains {@code gfn} ({@code null} only for an empty set).
     */
    Memslot search(long gfn, boolean approx);

    /** Slots whose gfn range intersects {@code [start, end)}, in increasing base-gfn order (spec §2.3). */
    Iterable<Memslot> inGfnRange(long start, long end);

    /** Slots whose host range intersects the hva range {@code [start, end)}; aliasing slots all appear. */
    Iterable<Memslot> inHvaRange(long start, long end);

    /** Every slot, in increasing base-gfn order. */
    Iterable<Memslot> all();
}
