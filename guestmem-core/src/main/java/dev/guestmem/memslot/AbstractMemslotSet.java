package dev.guestmem.memslot;

/**
 * What both memslot designs share: the address space, the generation and the per-vCPU lookup. The
 * generation is the one field a reader may see change on a published set (the writer finalises it
 * after the grace period, spec §2.4), hence volatile.
 */
abstract class AbstractMemslotSet implements MemslotSet {
    private final int asId;
    private volatile long generation;

    AbstractMemslotSet(int asId, long generation) {
        this.asId = asId;
        this.generation = generation;
    }

    @Override
    public final int asId() {
        return asId;
    }

    @Override
    public final long generation() {
        return generation;
    }

    final void setGeneration(long generation) {
        this.generation = generation;
    }

    @Override
    public final Memslot lookup(long gfn, VcpuSlotCache cache) {
        Memslot slot = cache.probe(generation, gfn);
        if (slot == null) {
            // A vCPU miss deliberately bypasses the set-wide cache: vCPUs working on different
            // slots would otherwise keep evicting each other's entry there (spec §2.2).
            slot = search(gfn, false);
            cache.remember(slot);
        }
        return slot;
    }

    /** The slot the set-wide last-used cache holds right now, or {@code null} (for tests). */
    abstract Memslot lastUsedSlot();

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(getClass().getSimpleName()).append("[as=").append(asId)
                .append(" gen=0x").append(Long.toHexString(generation));
        for (Memslot slot : all()) {
            sb.append(' ').append(slot);
        }
        return sb.append(']').toString();
    }
}
