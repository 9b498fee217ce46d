package dev.guestmem.memslot;

import java.util.Arrays;
import java.util.Collections;

/**
 * One set of the pre-2021 design: the slots in an array sorted by base gfn from highest to lowest,
 * a table from slot id to array index sized for every possible id, and a last-used index. Each update
 * builds a whole new set ({@link #withChange}); a published set changes only in its generation and
 * last-used index.
 */
final class ArrayMemslotSet extends AbstractMemslotSet {
    private static final short ABSENT = -1;

    private final Memslot[] slots;
    private int usedSlots;
    /** {@code id_to_index}: one entry per possible id, copied along with the array on every update. */
    private final short[] idToIndex;
    /**
     * {@code lru_slot}: readers store into it without synchronization; an int store is atomic and a hit
     * is re-checked against the gfn, so races only cost a binary search. Always below
     * {@link #usedSlots} unless the set is empty.
     */
    private int lastUsedIndex;

    /** An empty set. */
    ArrayMemslotSet(int asId, long generation) {
        super(asId, generation);
        this.slots = new Memslot[0];
        this.idToIndex = new short[KvmLimits.MEM_SLOTS_NUM];
        Arrays.fill(idToIndex, ABSENT);
    }

    /** {@code kvm_dup_memslots}: a private copy of {@code from} with room for {@code extra} more slots. */
    private ArrayMemslotSet(ArrayMemslotSet from, int extra) {
        super(from.asId(), from.generation());
        this.slots = Arrays.copyOf(from.slots, from.usedSlots + extra);
        this.usedSlots = from.usedSlots;
        this.idToIndex = from.idToIndex.clone();
        this.lastUsedIndex = from.lastUsedIndex;
    }

    /**
     * The set that replaces {@code old} (the slot with that id here, or {@code null}) by {@code next}
     * ({@code null} deletes), built as the old {@code update_memslots} did: copy, then shift.
     */
    ArrayMemslotSet withChange(Memslot old, Memslot next) {
        ArrayMemslotSet copy = new ArrayMemslotSet(this, old == null ? 1 : 0);
        if (next == null) {
            copy.delete(old);
        } else if (old == null) {
            copy.usedSlots++;
            copy.place(copy.usedSlots - 1, next);
        } else {
            copy.place(copy.idToIndex[old.id()], next);
        }
        return copy;
    }

    /** Closes the hole {@code old} leaves by shifting every lower slot one place up. */
    private void delete(Memslot old) {
        int hole = idToIndex[old.id()];
        for (int i = hole; i < usedSlots - 1; i++) {
            slots[i] = slots[i + 1];
            idToIndex[slots[i].id()] = (short) i;
        }
        slots[--usedSlots] = null;
        idToIndex[old.id()] = ABSENT;
        if (lastUsedIndex >= usedSlots) {
            lastUsedIndex = 0;
        }
    }

    /**
     * Puts {@code slot} into the array, whose index {@code hole} is free, by shifting neighbours over the
     * hole until the descending order holds again: towards the front while the slot before is lower,
     * towards the back while the slot after is higher.
     */
    private void place(int hole, Memslot slot) {
        long base = slot.baseGfn();
        while (hole > 0 && Long.compareUnsigned(slots[hole - 1].baseGfn(), base) < 0) {
            move(hole - 1, hole);
            hole--;
        }
        while (hole + 1 < usedSlots && Long.compareUnsigned(slots[hole + 1].baseGfn(), base) > 0) {
            move(hole + 1, hole);
            hole++;
        }
        slots[hole] = slot;
        idToIndex[slot.id()] = (short) hole;
    }

    private void move(int from, int to) {
        slots[to] = slots[from];
        idToIndex[slots[to].id()] = (short) to;
    }

    @Override
    public int size() {
        return usedSlots;
    }

    @Override
    public Memslot byId(int id) {
        if (id < 0 || id >= idToIndex.length) {
            return null;
        }
        int index = idToIndex[id];
        return index == ABSENT ? null : slots[index];
    }

    @Override
    public Memslot lookup(long gfn) {
        int used = usedSlots;
        if (used == 0) {
            return null;
        }
        int cached = lastUsedIndex;
        if (cached < used && slots[cached].contains(gfn)) {
            return slots[cached];
        }
        int i = floorIndex(gfn);
        if (i < used && slots[i].contains(gfn)) {
            lastUsedIndex = i;
            return slots[i];
        }
        return null;
    }

    /**
     * Without a containing slot, {@code approx} yields the highest slot below {@code gfn}, or the lowest
     * slot when {@code gfn} lies below all of them.
     */
    @Override
    public Memslot search(long gfn, boolean approx) {
        int used = usedSlots;
        int i = floorIndex(gfn);
        if (i < used && slots[i].contains(gfn)) {
            return slots[i];
        }
        if (!approx || used == 0) {
            return null;
        }
        return i < used ? slots[i] : slots[used - 1];
    }

    /** Binary search: the first index whose base gfn is at or below {@code gfn}, or {@link #usedSlots}. */
    private int floorIndex(long gfn) {
        int lo = 0;
        int hi = usedSlots;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(gfn, slots[mid].baseGfn()) >= 0) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return lo;
    }

    /** A linear walk from the lowest slot up, as {@code kvm_for_each_memslot} did, bounded by the end. */
    @Override
    public Iterable<Memslot> inGfnRange(long start, long end) {
        return () -> new GfnWalk(start, end);
    }

    /**
     * A linear walk over the whole array, so slots come in decreasing base-gfn order (the order the old
     * {@code kvm_handle_hva_range} visited them in).
     */
    @Override
    public Iterable<Memslot> inHvaRange(long start, long end) {
        if (Long.compareUnsigned(start, end) >= 0) {
            return Collections.emptyList();
        }
        return () -> new HvaWalk(start, end - 1);
    }

    @Override
    public Iterable<Memslot> all() {
        return () -> new GfnWalk(0, -1L);
    }

    @Override
    Memslot lastUsedSlot() {
        return usedSlots == 0 ? null : slots[lastUsedIndex];
    }

    /** Checks order and the id table against the array (for tests). */
    void checkInvariants() {
        for (int i = 0; i < usedSlots; i++) {
            if (i > 0 && slots[i - 1].baseGfn() <= slots[i].baseGfn()) {
                throw new IllegalStateException("array not descending at " + i);
            }
            if (idToIndex[slots[i].id()] != i) {
                throw new IllegalStateException("id_to_index disagrees on " + slots[i]);
            }
        }
        long mapped = 0;
        for (short index : idToIndex) {
            mapped += index == ABSENT ? 0 : 1;
        }
        if (mapped != usedSlots) {
            throw new IllegalStateException(mapped + " ids mapped for " + usedSlots + " slots");
        }
    }

    /** Ascending walk over {@code [start, end)}: from the back of the array until a base reaches the end. */
    private final class GfnWalk extends SlotLookahead {
        private final long start;
        private final long end;
        private int index = usedSlots;

        GfnWalk(long start, long end) {
            this.start = start;
            this.end = end;
        }

        @Override
        Memslot fetch() {
            while (--index >= 0) {
                Memslot slot = slots[index];
                if (Long.compareUnsigned(slot.baseGfn(), end) >= 0) {
                    index = -1;
                    return null;
                }
                if (Long.compareUnsigned(slot.endGfn(), start) > 0) {
                    return slot;
                }
            }
            return null;
        }
    }

    /** Walk over the whole array keeping the slots whose inclusive host range meets {@code [first, last]}. */
    private final class HvaWalk extends SlotLookahead {
        private final long first;
        private final long last;
        private int index = -1;

        HvaWalk(long first, long last) {
            this.first = first;
            this.last = last;
        }

        @Override
        Memslot fetch() {
            while (++index < usedSlots) {
                Memslot slot = slots[index];
                if (Long.compareUnsigned(slot.userspaceAddr(), last) <= 0
                        && Long.compareUnsigned(slot.hvaEnd() - 1, first) >= 0) {
                    return slot;
                }
            }
            return null;
        }
    }
}
