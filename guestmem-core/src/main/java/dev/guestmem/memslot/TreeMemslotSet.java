package dev.guestmem.memslot;

import dev.guestmem.memslot.HvaIntervalTree.HvaNode;
import java.util.Collections;

/**
 * One set of the scalable design ({@code struct kvm_memslots}, spec §2.1): a gfn index (a B+-tree where
 * the kernel has a red-black tree, see {@link GfnIndex}), an hva interval tree and an id hash over slot
 * objects it shares with the other set of its address space. The writer edits a set only while it is
 * inactive and no reader can reach it; a published set changes only in its generation and its last-used
 * cache.
 */
final class TreeMemslotSet extends AbstractMemslotSet {
    private final GfnIndex gfnIndex = new GfnIndex();
    private final HvaIntervalTree hvaTree = new HvaIntervalTree();
    private final SlotIdMap idHash = new SlotIdMap();
    /**
     * {@code last_used_slot}: readers store into it without synchronization. The race is benign, as in
     * the kernel: a reference store is atomic, a slot is immutable with final fields, and every hit is
     * re-checked against the gfn, so a lost or stale update only costs an index search.
     */
    private Memslot lastUsed;

    TreeMemslotSet(int asId, long generation) {
        super(asId, generation);
    }

    @Override
    public int size() {
        return idHash.size();
    }

    @Override
    public Memslot byId(int id) {
        return idHash.get(id);
    }

    @Override
    public Memslot lookup(long gfn) {
        Memslot slot = lastUsed;
        if (slot != null && slot.contains(gfn)) {
            return slot;
        }
        slot = gfnIndex.search(gfn, false);
        if (slot != null) {
            lastUsed = slot;
        }
        return slot;
    }

    @Override
    public Memslot search(long gfn, boolean approx) {
        return gfnIndex.search(gfn, approx);
    }

    @Override
    public Iterable<Memslot> inGfnRange(long start, long end) {
        return () -> gfnIndex.inRange(start, end);
    }

    /** Yields slots in increasing order of {@code userspace_addr}, aliases with equal addresses by id. */
    @Override
    public Iterable<Memslot> inHvaRange(long start, long end) {
        if (Long.compareUnsigned(start, end) >= 0) {
            return Collections.emptyList();
        }
        return () -> hvaTree.overlapping(start, end - 1);
    }

    @Override
    public Iterable<Memslot> all() {
        // Every base gfn is below 2^52, so [0, 2^64 - 1) covers every slot.
        return () -> gfnIndex.inRange(0, -1L);
    }

    @Override
    Memslot lastUsedSlot() {
        return lastUsed;
    }

    /**
     * {@code kvm_replace_memslot} (spec §2.5) on this set, which must be inactive: {@code old} (if any)
     * leaves, {@code next} (if any) enters, and a last-used cache pointing at {@code old} follows it.
     */
    void replace(Memslot old, Memslot next) {
        HvaNode node = null;
        if (old != null) {
            if (lastUsed == old) {
                lastUsed = next;
            }
            if (next == null) {
                idHash.remove(old.id());
                hvaTree.remove(old);
                gfnIndex.remove(old);
                return;
            }
            node = idHash.node(old.id());
        }
        // The kernel removes and re-inserts the hva node; a MOVE, a flags change and the INVALID copy keep
        // the host range (hva and size are immutable, spec §1.1), so the node can simply take the new slot.
        if (node != null && HvaIntervalTree.sameRange(old, next)) {
            HvaIntervalTree.replace(node, next);
        } else {
            if (old != null) {
                hvaTree.remove(old);
            }
            idHash.put(hvaTree.insert(next)); // replaces old's entry: a slot keeps its id
        }
        if (old != null && old.baseGfn() == next.baseGfn()) {
            gfnIndex.replace(next);
        } else {
            if (old != null) {
                gfnIndex.remove(old);
            }
            gfnIndex.insert(next);
        }
    }

    /** Checks the gfn index and the hva tree, and that all three indexes hold the same slots (for tests). */
    void checkInvariants() {
        gfnIndex.checkInvariants();
        hvaTree.checkInvariants();
        if (gfnIndex.size() != idHash.size() || hvaTree.size() != idHash.size()) {
            throw new IllegalStateException("index sizes differ: gfn " + gfnIndex.size() + " hva "
                    + hvaTree.size() + " id " + idHash.size());
        }
        for (Memslot slot : all()) {
            if (idHash.get(slot.id()) != slot) {
                throw new IllegalStateException("id hash disagrees on " + slot);
            }
        }
        for (Memslot slot : inHvaRange(0, -1L)) {
            if (idHash.get(slot.id()) != slot) {
                throw new IllegalStateException("hva tree holds a slot the id hash does not: " + slot);
            }
        }
    }
}
