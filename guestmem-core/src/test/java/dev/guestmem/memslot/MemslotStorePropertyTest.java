package dev.guestmem.memslot;

import static dev.guestmem.memslot.KvmLimits.PAGE_SIZE;
import static dev.guestmem.memslot.Slots.list;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.sync.Srcu;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/** Random update sequences: both designs must answer every query exactly like a brute-force model. */
class MemslotStorePropertyTest {
    private static final int ADDRESS_SPACES = 2;
    private static final long HVA_BASE = 0x7000_0000L;

    sealed interface Op permits Create, Delete, Move, Flags {
    }

    record Create(int asId, int id, long base, long npages, long hvaPage) implements Op {
    }

    record Delete(int asId, int pick) implements Op {
    }

    record Move(int asId, int pick, long newBase) implements Op {
    }

    record Flags(int asId, int pick, int flags) implements Op {
    }

    @Provide
    Arbitrary<List<Op>> operations() {
        Arbitrary<Integer> as = Arbitraries.integers().between(0, ADDRESS_SPACES - 1);
        Arbitrary<Integer> id = Arbitraries.oneOf(Arbitraries.integers().between(0, 9),
                Arbitraries.just(KvmLimits.MEM_SLOTS_NUM - 1));
        Arbitrary<Long> base = Arbitraries.longs().between(0, 255);
        Arbitrary<Integer> pick = Arbitraries.integers().between(0, 1000);
        Arbitrary<Op> create = Combinators.combine(as, id, base, Arbitraries.longs().between(1, 24),
                Arbitraries.longs().between(0, 63)).as(Create::new);
        Arbitrary<Op> delete = Combinators.combine(as, pick).as(Delete::new);
        Arbitrary<Op> move = Combinators.combine(as, pick, base).as(Move::new);
        Arbitrary<Op> flags = Combinators.combine(as, pick,
                Arbitraries.of(0, MemslotFlags.LOG_DIRTY_PAGES, MemslotFlags.READONLY,
                        MemslotFlags.LOG_DIRTY_PAGES | MemslotFlags.READONLY)).as(Flags::new);
        return Arbitraries.frequencyOf(
                Tuple.of(5, create), Tuple.of(2, delete),
                Tuple.of(2, move), Tuple.of(1, flags))
                .list().ofMaxSize(40);
    }

    @Property(tries = 250)
    void bothDesignsAgreeWithTheModel(@ForAll("operations") List<Op> ops) {
        Harness h = new Harness(new Random(ops.hashCode()));
        for (Op op : ops) {
            switch (op) {
                case Create c -> {
                    if (h.model.byId(c.asId(), c.id()) == null) {
                        h.install(c.asId(), c.id(), new Memslot(c.asId(), c.id(), c.base(), c.npages(), 0,
                                HVA_BASE + c.hvaPage() * PAGE_SIZE, null));
                    }
                }
                case Delete d -> {
                    Memslot old = h.pick(d.asId(), d.pick());
                    if (old != null) {
                        h.install(d.asId(), old.id(), old.invalidCopy());
                        h.install(d.asId(), old.id(), null);
                    }
                }
                case Move m -> {
                    Memslot old = h.pick(m.asId(), m.pick());
                    if (old != null) {
                        Memslot moved = new Memslot(m.asId(), old.id(), m.newBase(), old.npages(), old.flags(),
                                old.userspaceAddr(), null);
                        if (h.model.overlapsOther(m.asId(), moved)) {
                            h.install(m.asId(), old.id(), moved);
                        } else {
                            h.install(m.asId(), old.id(), old.invalidCopy());
                            h.install(m.asId(), old.id(), moved);
                        }
                    }
                }
                case Flags f -> {
                    Memslot old = h.pick(f.asId(), f.pick());
                    if (old != null) {
                        h.install(f.asId(), old.id(), new Memslot(f.asId(), old.id(), old.baseGfn(),
                                old.npages(), f.flags(), old.userspaceAddr(), null));
                    }
                }
            }
        }
    }

    /** Drives both stores and the model in lock step and compares them after every install. */
    private static final class Harness {
        final ReferenceMemslots model = new ReferenceMemslots(ADDRESS_SPACES);
        final List<MemslotStore> stores = new ArrayList<>();
        /** One vCPU cache per store and address space, kept across installs, plus one shared by both AS. */
        final List<VcpuSlotCache[]> caches = new ArrayList<>();
        final Random random;

        Harness(Random random) {
            this.random = random;
            for (MemslotImpl impl : MemslotImpl.values()) {
                stores.add(impl.create(ADDRESS_SPACES, new Srcu(), PublishBarrier.NONE));
                caches.add(new VcpuSlotCache[] {new VcpuSlotCache(), new VcpuSlotCache(), new VcpuSlotCache()});
            }
        }

        Memslot pick(int asId, int pick) {
            List<Memslot> all = model.all(asId);
            return all.isEmpty() ? null : all.get(pick % all.size());
        }

        /** One install, or one rejected install when the model says it overlaps. */
        void install(int asId, int id, Memslot next) {
            if (next != null && model.overlapsOther(asId, next)) {
                for (MemslotStore store : stores) {
                    assertThrows(IllegalArgumentException.class, () -> store.install(asId, id, next));
                }
            } else {
                model.install(asId, id, next);
                for (MemslotStore store : stores) {
                    store.install(asId, id, next);
                }
            }
            for (int s = 0; s < stores.size(); s++) {
                MemslotStore store = stores.get(s);
                Slots.checkInvariants(store);
                for (int as = 0; as < ADDRESS_SPACES; as++) {
                    compare(store, as, caches.get(s)[as], caches.get(s)[ADDRESS_SPACES]);
                }
            }
        }

        private void compare(MemslotStore store, int as, VcpuSlotCache cache, VcpuSlotCache sharedCache) {
            MemslotSet set = store.active(as);
            String where = store.impl() + " as" + as + " ";
            List<Memslot> all = model.all(as);
            assertEquals(model.generation(as), set.generation(), where + "generation");
            assertEquals(all.size(), set.size(), where + "size");
            assertEquals(all, list(set.all()), where + "all");
            for (int id : new int[] {-1, 0, 1, 5, 9, 10, KvmLimits.MEM_SLOTS_NUM - 1, KvmLimits.MEM_SLOTS_NUM}) {
                assertSame(model.byId(as, id), set.byId(id), where + "byId " + id);
            }

            TreeSet<Long> gfns = new TreeSet<>(Long::compareUnsigned);
            gfns.addAll(List.of(0L, 1L, 300L, -1L, (long) random.nextInt(300)));
            for (Memslot s : all) {
                gfns.addAll(List.of(s.baseGfn() - 1, s.baseGfn(), s.endGfn() - 1, s.endGfn()));
            }
            for (long gfn : gfns) {
                Memslot expected = model.containing(as, gfn);
                assertSame(expected, set.lookup(gfn), where + "lookup " + gfn);
                assertSame(expected, set.lookup(gfn, cache), where + "vcpu lookup " + gfn);
                assertSame(expected, set.lookup(gfn, sharedCache), where + "shared vcpu lookup " + gfn);
                assertSame(expected, set.search(gfn, false), where + "search " + gfn);
                Memslot approx = set.search(gfn, true);
                if (expected != null) {
                    assertSame(expected, approx, where + "approx hit " + gfn);
                } else if (all.isEmpty()) {
                    assertNull(approx, where + "approx on empty set");
                } else {
                    assertTrue(model.bordering(as, gfn).contains(approx), where + "approx " + gfn + " -> " + approx);
                }
            }
            List<Long> points = sample(gfns);
            for (long start : points) {
                for (long end : points) {
                    assertEquals(model.inGfnRange(as, start, end), list(set.inGfnRange(start, end)),
                            where + "gfn range " + start + ".." + end);
                }
            }

            TreeSet<Long> hvas = new TreeSet<>(Long::compareUnsigned);
            hvas.addAll(List.of(0L, HVA_BASE, -1L, HVA_BASE + random.nextInt(70) * PAGE_SIZE + random.nextInt(3) - 1));
            for (Memslot s : all) {
                hvas.addAll(List.of(s.userspaceAddr() - 1, s.userspaceAddr(), s.hvaEnd() - 1, s.hvaEnd()));
            }
            List<Long> hvaPoints = sample(hvas);
            Comparator<Memslot> order = store.impl() == MemslotImpl.TREE
                    ? Comparator.comparingLong(Memslot::userspaceAddr).thenComparingInt(Memslot::id)
                    : Comparator.comparingLong(Memslot::baseGfn).reversed();
            for (long start : hvaPoints) {
                for (long end : hvaPoints) {
                    List<Memslot> expected = model.inHvaRange(as, start, end).stream().sorted(order).toList();
                    assertEquals(expected, list(set.inHvaRange(start, end)), where + "hva range " + start + ".." + end);
                }
            }
        }

        /** Up to ten of the points, always including the extremes. */
        private List<Long> sample(TreeSet<Long> points) {
            List<Long> all = new ArrayList<>(points);
            List<Long> out = new ArrayList<>(List.of(all.getFirst(), all.getLast()));
            for (int i = 0; i < 8 && i < all.size(); i++) {
                out.add(all.get(random.nextInt(all.size())));
            }
            return out;
        }
    }
}
