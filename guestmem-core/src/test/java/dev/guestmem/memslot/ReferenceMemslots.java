package dev.guestmem.memslot;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** A brute-force model of one store: a list of slots and a generation per address space. */
final class ReferenceMemslots {
    private final List<List<Memslot>> slots = new ArrayList<>();
    private final long[] generations;

    ReferenceMemslots(int addressSpaces) {
        generations = new long[addressSpaces];
        for (int as = 0; as < addressSpaces; as++) {
            slots.add(new ArrayList<>());
            generations[as] = as;
        }
    }

    void install(int asId, int id, Memslot next) {
        List<Memslot> list = slots.get(asId);
        list.removeIf(s -> s.id() == id);
        if (next != null) {
            list.add(next);
        }
        generations[asId] += generations.length;
    }

    long generation(int asId) {
        return generations[asId];
    }

    /** Slots in increasing base order. */
    List<Memslot> all(int asId) {
        return slots.get(asId).stream().sorted(Comparator.comparingLong(Memslot::baseGfn)).toList();
    }

    Memslot byId(int asId, int id) {
        return slots.get(asId).stream().filter(s -> s.id() == id).findFirst().orElse(null);
    }

    Memslot containing(int asId, long gfn) {
        return slots.get(asId).stream().filter(s -> s.contains(gfn)).findFirst().orElse(null);
    }

    /** Would {@code next} overlap a slot with another id? */
    boolean overlapsOther(int asId, Memslot next) {
        return slots.get(asId).stream().anyMatch(s -> s.id() != next.id()
                && s.baseGfn() < next.endGfn() && next.baseGfn() < s.endGfn());
    }

    /** The slots an approximate search may return for a gfn no slot contains. */
    List<Memslot> bordering(int asId, long gfn) {
        Memslot below = null;
        Memslot above = null;
        for (Memslot s : slots.get(asId)) {
            if (Long.compareUnsigned(s.baseGfn(), gfn) < 0) {
                if (below == null || s.baseGfn() > below.baseGfn()) {
                    below = s;
                }
            } else if (above == null || s.baseGfn() < above.baseGfn()) {
                above = s;
            }
        }
        List<Memslot> out = new ArrayList<>();
        if (below != null) {
            out.add(below);
        }
        if (above != null) {
            out.add(above);
        }
        return out;
    }

    List<Memslot> inGfnRange(int asId, long start, long end) {
        return all(asId).stream().filter(s -> Long.compareUnsigned(s.endGfn(), start) > 0
                && Long.compareUnsigned(s.baseGfn(), end) < 0).toList();
    }

    /** Slots meeting the hva range {@code [start, end)}, in no particular order. */
    List<Memslot> inHvaRange(int asId, long start, long end) {
        if (Long.compareUnsigned(start, end) >= 0) {
            return List.of();
        }
        return all(asId).stream().filter(s -> Long.compareUnsigned(s.userspaceAddr(), end - 1) <= 0
                && Long.compareUnsigned(s.hvaEnd() - 1, start) >= 0).toList();
    }
}
