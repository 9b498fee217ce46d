package dev.guestmem.dirty;

/**
 * Userspace's side of one dirty ring (spec §4.6): reads entries in ring order from its own fetch index,
 * hands each dirty one over and marks it harvested, stopping at the first entry that is not dirty. It must
 * not skip entries; the pages become write-protected again only when {@code KVM_RESET_DIRTY_RINGS} frees
 * the harvested entries, which must happen before their contents are read.
 */
public final class RingHarvester {
    /** Receives one harvested entry. */
    @FunctionalInterface
    public interface Sink {
        /** Page {@code offset} of slot word {@code slot} ({@code as_id << 16 | id}) was dirtied. */
        void dirty(int slot, long offset);
    }

    private final DirtyRing ring;
    private int fetch;

    /** A harvester starting at the ring's first entry. */
    public RingHarvester(DirtyRing ring) {
        this.ring = ring;
    }

    /** Harvests every entry pushed since the last call; returns how many. */
    public int harvest(Sink sink) {
        int count = 0;
        for (;;) {
            DirtyGfn entry = ring.entry(fetch);
            if (!entry.isDirty()) {
                return count;
            }
            sink.dirty(entry.slot(), entry.offset());
            ring.markHarvested(fetch);
            fetch++;
            count++;
        }
    }
}
