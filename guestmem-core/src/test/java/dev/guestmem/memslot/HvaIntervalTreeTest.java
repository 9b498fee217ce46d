package dev.guestmem.memslot;

import static dev.guestmem.memslot.KvmLimits.PAGE_SIZE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/** The hva interval tree against a brute-force list of intervals. */
class HvaIntervalTreeTest {
    /** Insert (slot id, start page, pages) or remove the {@code pick}-th interval, then query. */
    record Step(boolean insert, int id, long startPage, long pages, int pick, long queryFirst, long queryLength) {
    }

    @Provide
    Arbitrary<List<Step>> steps() {
        return Combinators.combine(Arbitraries.integers().between(0, 3).map(n -> n > 0),
                Arbitraries.integers().between(0, 200), Arbitraries.longs().between(0, 60),
                Arbitraries.longs().between(1, 20), Arbitraries.integers().between(0, 1000),
                Arbitraries.longs().between(0, 90 * PAGE_SIZE), Arbitraries.longs().between(0, 30 * PAGE_SIZE))
                .as(Step::new).list().ofMaxSize(120);
    }

    @Property(tries = 300)
    void overlappingMatchesBruteForce(@ForAll("steps") List<Step> steps) {
        HvaIntervalTree tree = new HvaIntervalTree();
        List<Memslot> model = new ArrayList<>();
        for (Step step : steps) {
            if (step.insert()) {
                if (model.stream().noneMatch(s -> s.id() == step.id())) {
                    Memslot slot = new Memslot(0, step.id(), step.id() * 100L, step.pages(), 0,
                            step.startPage() * PAGE_SIZE, null);
                    tree.insert(slot);
                    model.add(slot);
                }
            } else if (!model.isEmpty()) {
                Memslot victim = model.remove(step.pick() % model.size());
                tree.remove(victim);
            }
            tree.checkInvariants();
            assertEquals(model.size(), tree.size());
            long first = step.queryFirst();
            long last = first + step.queryLength();
            List<Memslot> expected = model.stream()
                    .filter(s -> s.userspaceAddr() <= last && s.hvaEnd() - 1 >= first)
                    .sorted(Comparator.comparingLong(Memslot::userspaceAddr).thenComparingInt(Memslot::id))
                    .toList();
            assertEquals(expected, drain(tree.overlapping(first, last)), "[" + first + ", " + last + "]");
            assertEquals(model.size(), drain(tree.overlapping(0, -1L)).size());
        }
    }

    @Test
    void aliasesAndBoundaries() {
        HvaIntervalTree tree = new HvaIntervalTree();
        Memslot a = new Memslot(0, 2, 0, 2, 0, 0x10000, null);
        Memslot b = new Memslot(0, 1, 10, 2, 0, 0x10000, null);
        Memslot c = new Memslot(0, 3, 20, 1, 0, 0x12000, null);
        tree.insert(a);
        tree.insert(b);
        tree.insert(c);
        assertEquals(List.of(b, a), drain(tree.overlapping(0x11fff, 0x11fff)));
        assertEquals(List.of(b, a, c), drain(tree.overlapping(0x11fff, 0x12000)));
        assertEquals(List.of(c), drain(tree.overlapping(0x12000, 0x12fff)));
        assertEquals(List.of(), drain(tree.overlapping(0x13000, -1L)));
        assertEquals(List.of(), drain(tree.overlapping(0, 0xffff)));
        assertThrows(IllegalStateException.class, () -> tree.insert(new Memslot(0, 2, 0, 1, 0, 0x10000, null)));
        tree.remove(a);
        tree.checkInvariants();
        assertEquals(List.of(b), drain(tree.overlapping(0x10000, 0x10000)));
        assertThrows(IllegalStateException.class, () -> tree.remove(a));
        Iterator<Memslot> it = tree.overlapping(0x20000, 0x30000);
        assertThrows(NoSuchElementException.class, it::next);
        assertSame(c, tree.overlapping(0x12000, 0x12000).next());
    }

    @Test
    void aSlotKeepingItsHostRangeIsReplacedInPlace() {
        HvaIntervalTree tree = new HvaIntervalTree();
        Memslot a = new Memslot(0, 2, 0, 2, 0, 0x10000, null);
        Memslot b = new Memslot(0, 1, 10, 2, 0, 0x10000, null);
        HvaIntervalTree.HvaNode node = tree.insert(a);
        tree.insert(b);
        Memslot moved = new Memslot(0, 2, 0x300, 2, 0, 0x10000, null); // a MOVE: new gfn, same hva
        HvaIntervalTree.replace(node, moved);
        tree.checkInvariants();
        assertEquals(List.of(b, moved), drain(tree.overlapping(0x10000, 0x10000)));
        assertEquals(2, tree.size());
        assertThrows(IllegalArgumentException.class,
                () -> HvaIntervalTree.replace(node, new Memslot(0, 2, 0x300, 3, 0, 0x10000, null)), "another size");
        assertThrows(IllegalArgumentException.class,
                () -> HvaIntervalTree.replace(node, new Memslot(0, 3, 0x300, 2, 0, 0x10000, null)), "another id");
        assertSame(moved, node.slot, "a refused replace changes nothing");
    }

    @Test
    void staysBalancedUnderSequentialInserts() {
        HvaIntervalTree tree = new HvaIntervalTree();
        for (int id = 0; id < 4096; id++) {
            tree.insert(new Memslot(0, id, id, 1, 0, id * PAGE_SIZE, null));
        }
        tree.checkInvariants();
        // An AVL tree of 4096 nodes is at most 1.44 * log2(4098) high; a degenerate one would be 4096.
        assertEquals(true, AvlTree.heightOf(tree.root) <= 17, "height " + AvlTree.heightOf(tree.root));
        assertEquals(1, drain(tree.overlapping(100 * PAGE_SIZE, 100 * PAGE_SIZE)).size());
    }

    private static List<Memslot> drain(Iterator<Memslot> it) {
        List<Memslot> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }
}
