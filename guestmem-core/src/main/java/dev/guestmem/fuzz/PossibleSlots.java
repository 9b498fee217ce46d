package dev.guestmem.fuzz;

import dev.guestmem.memslot.KvmLimits;
import dev.guestmem.memslot.MemslotFlags;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * What the memslot table may hold after a trace's region requests, known without running them: for each
 * slot id, the layouts it may have and whether it may have none. A request is applied to each of the id's
 * possibilities by spec §1.1 steps 14-21. Where its outcome depends on what only a replay knows (a slot of
 * another id that may or may not be in the way, two mapping bindings that may share an address, a
 * guest_memfd binding, a large allocation), both outcomes stay possible. The possibilities of different
 * ids are kept apart, so which of them go together is lost: the model says what may be, never what must.
 *
 * <p>A layout carries its incarnation: a creation or a move starts a new one, because the kernel zaps the
 * SPTEs of a slot it deletes or moves; a flags-only change keeps it, because nothing is zapped then
 * (spec §1.2).
 */
final class PossibleSlots {
    /**
     * Slots up to this many pages (1 GiB) are surely allocated; a larger one's metadata or dirty bitmap
     * (megabytes per GiB of guest memory) may fail with {@code ENOMEM} (spec §1.1 steps 19 and 21).
     */
    private static final long SURELY_ALLOCATED_PAGES = 1L << 18;
    private static final Possible NONE = new Possible(true, Set.of());

    /** One layout a slot id may have; {@code incarnation} numbers the creation or move that placed it. */
    record Layout(int incarnation, long baseGfn, long pages, int flags, HvaKey hva) {
        boolean contains(long gfn) {
            return Long.compareUnsigned(gfn - baseGfn, pages) < 0;
        }

        boolean has(int flag) {
            return (flags & flag) != 0;
        }

        private boolean overlaps(long base, long count) {
            return Long.compareUnsigned(base, baseGfn + pages) < 0 && Long.compareUnsigned(baseGfn, base + count) < 0;
        }
    }

    /** What one slot id may be: absent, and any of {@code layouts}. */
    private record Possible(boolean mayBeAbsent, Set<Layout> layouts) {
    }

    /** Whether a request succeeds, as far as can be known. */
    private enum Outcome {
        SUCCEEDS, FAILS, EITHER;

        /** The outcome of a request that needs every one of {@code checks} to pass. */
        static Outcome all(Outcome... checks) {
            List<Outcome> list = List.of(checks);
            return list.contains(FAILS) ? FAILS : list.contains(EITHER) ? EITHER : SUCCEEDS;
        }
    }

    private final Map<Integer, Possible> ids = new TreeMap<>();
    private int incarnations;

    /** Applies {@code request} to every possibility of its slot id. */
    void apply(SlotRequest request) {
        int incarnation = incarnations++; // shared by every possibility this request creates or moves
        Possible before = ids.getOrDefault(request.slot(), NONE);
        List<Optional<Layout>> after = new ArrayList<>();
        if (before.mayBeAbsent()) {
            after.addAll(outcomes(Optional.empty(), request, incarnation));
        }
        before.layouts().forEach(old -> after.addAll(outcomes(Optional.of(old), request, incarnation)));
        Set<Layout> layouts = new LinkedHashSet<>();
        after.forEach(layout -> layout.ifPresent(layouts::add));
        if (layouts.isEmpty()) {
            ids.remove(request.slot());
        } else {
            ids.put(request.slot(), new Possible(after.contains(Optional.<Layout>empty()), layouts));
        }
    }

    /** Every layout any slot id may have. */
    Stream<Layout> layouts() {
        return ids.values().stream().flatMap(p -> p.layouts().stream());
    }

    /** What the slot may be after {@code request} if it was {@code old} (empty: absent) before. */
    private List<Optional<Layout>> outcomes(Optional<Layout> old, SlotRequest request, int incarnation) {
        if (request.size() == 0) {
            return List.of(Optional.empty()); // step 15: a deletion leaves no slot, whether there was one or not
        }
        Layout placed = new Layout(incarnation, request.gpa() >>> KvmLimits.PAGE_SHIFT,
                request.size() >>> KvmLimits.PAGE_SHIFT, request.flags(), request.hva());
        if (old.isEmpty()) {
            return decide(Outcome.all(gmemBinding(request), placement(request.slot(), placed)), old, placed);
        }
        Layout layout = old.get();
        // Step 17: a guest_memfd request, another size or another READONLY bit is refused.
        if ((request.flags() & MemslotFlags.GUEST_MEMFD) != 0 || placed.pages() != layout.pages()
                || ((request.flags() ^ layout.flags()) & MemslotFlags.READONLY) != 0) {
            return List.of(old);
        }
        // Clearing GUEST_MEMFD is refused since a fix of December 2025 that the reference kernel may lack.
        Outcome same = Outcome.all(sameHva(layout.hva(), request.hva()),
                layout.has(MemslotFlags.GUEST_MEMFD) ? Outcome.EITHER : Outcome.SUCCEEDS);
        if (placed.baseGfn() != layout.baseGfn()) {
            return decide(Outcome.all(same, placement(request.slot(), placed)), old, placed); // a move
        }
        if (request.flags() == layout.flags()) {
            return List.of(old); // nothing changes
        }
        Layout flagged = new Layout(layout.incarnation(), layout.baseGfn(), layout.pages(), request.flags(),
                layout.hva());
        return decide(Outcome.all(same, allocation(layout.pages())), old, flagged);
    }

    private static List<Optional<Layout>> decide(Outcome outcome, Optional<Layout> old, Layout changed) {
        return switch (outcome) {
            case SUCCEEDS -> List.of(Optional.of(changed));
            case FAILS -> List.of(old);
            case EITHER -> List.of(old, Optional.of(changed));
        };
    }

    /** Step 20: a raw fd never binds; a named guest_memfd may. */
    private static Outcome gmemBinding(SlotRequest request) {
        if ((request.flags() & MemslotFlags.GUEST_MEMFD) == 0) {
            return Outcome.SUCCEEDS;
        }
        return request.gmemMayBind() ? Outcome.EITHER : Outcome.FAILS;
    }

    /** Steps 18, 19 and 21 for a creation or move of {@code slot} to {@code placed}. */
    private Outcome placement(int slot, Layout placed) {
        Outcome lastGfn = Long.compareUnsigned(placed.baseGfn() + placed.pages() - 1, KvmLimits.MAX_GFN) > 0
                ? Outcome.FAILS : Outcome.SUCCEEDS;
        return Outcome.all(lastGfn, overlap(slot, placed), allocation(placed.pages()));
    }

    /** Step 18: {@code EEXIST} if a slot of another id lies in the way. */
    private Outcome overlap(int slot, Layout placed) {
        Outcome outcome = Outcome.SUCCEEDS;
        for (Map.Entry<Integer, Possible> id : ids.entrySet()) {
            if (id.getKey() == slot) {
                continue;
            }
            Possible other = id.getValue();
            if (!other.mayBeAbsent()
                    && other.layouts().stream().allMatch(l -> l.overlaps(placed.baseGfn(), placed.pages()))) {
                return Outcome.FAILS;
            }
            if (other.layouts().stream().anyMatch(l -> l.overlaps(placed.baseGfn(), placed.pages()))) {
                outcome = Outcome.EITHER;
            }
        }
        return outcome;
    }

    private static Outcome allocation(long pages) {
        return pages <= SURELY_ALLOCATED_PAGES ? Outcome.SUCCEEDS : Outcome.EITHER;
    }

    /**
     * Whether two hvas are the same address. Offsets into one binding are, or are not; a raw address that
     * reaches a slot lies in the never-mapped first page (rule RAW_HVAS_NEVER_MAPPED), so it is no
     * mapping's; two bindings may share an address, because a later mapping may reuse an unmapped one's.
     */
    private static Outcome sameHva(HvaKey a, HvaKey b) {
        if (a.equals(b)) {
            return Outcome.SUCCEEDS;
        }
        return a.binding() == b.binding() || a.isRaw() || b.isRaw() ? Outcome.FAILS : Outcome.EITHER;
    }
}
