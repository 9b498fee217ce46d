package dev.guestmem.memslot;

import static dev.guestmem.memslot.GfnNode.CAPACITY;
import static dev.guestmem.memslot.GfnNode.MIN_FILL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.guestmem.memslot.GfnNode.Inner;
import dev.guestmem.memslot.GfnNode.Leaf;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/** The B+-tree gfn index: node edge cases, and random edits against a {@link TreeMap} of base gfns. */
class GfnIndexTest {
    /** Slot {@code n} starts at gfn {@code 16 n} and has 1 to 16 pages, so slots never overlap. */
    private static Memslot slot(int n, long pages) {
        return new Memslot(0, n % KvmLimits.MEM_SLOTS_NUM, 16L * n, pages, 0, 0, null);
    }

    /** Slots 0 to {@code count - 1} of {@code pages} pages each, inserted in ascending order and checked. */
    private static GfnIndex ascending(int count, long pages) {
        GfnIndex index = new GfnIndex();
        for (int n = 0; n < count; n++) {
            index.insert(slot(n, pages));
        }
        index.checkInvariants();
        return index;
    }

    @Test
    void rankCountsTheKeysAtOrBelowForEveryFill() {
        SplittableRandom random = new SplittableRandom(7);
        for (int count = 0; count <= CAPACITY; count++) {
            Leaf leaf = new Leaf();
            long key = random.nextLong(4);
            for (int i = 0; i < count; i++) {
                leaf.insert(i, new Memslot(0, i, key, 1, 0, 0, null));
                key += 1 + random.nextLong(3);
            }
            for (long query = 0; query <= key + 1; query++) {
                int expected = 0;
                while (expected < count && leaf.keys[expected] <= query) {
                    expected++;
                }
                assertEquals(expected, leaf.rank(query), "count " + count + " query " + query);
            }
            assertEquals(count, leaf.rank(InstallChecks.GFN_LIMIT));
        }
    }

    @Test
    void aFullLeafSplitsEvenlyInTheMiddleAndUnevenlyWhenAppending() {
        GfnIndex appended = new GfnIndex();
        for (int n = 0; n <= CAPACITY; n++) {
            assertEquals(0, appended.height);
            appended.insert(slot(2 * n, 1));
        }
        appended.checkInvariants();
        assertEquals(1, appended.height);
        assertEquals(List.of(CAPACITY + 1 - MIN_FILL, MIN_FILL), childCounts(appended));

        GfnIndex middle = new GfnIndex();
        for (int n = 0; n < CAPACITY; n++) {
            middle.insert(slot(2 * n, 1));
        }
        middle.insert(slot(CAPACITY + 1, 1));
        middle.checkInvariants();
        assertEquals(List.of((CAPACITY + 1) / 2, CAPACITY + 1 - (CAPACITY + 1) / 2), childCounts(middle));

        GfnIndex prepended = new GfnIndex();
        for (int n = CAPACITY; n >= 0; n--) {
            prepended.insert(slot(n, 1));
            prepended.checkInvariants();
        }
        assertEquals(CAPACITY + 1, prepended.size());
        assertEquals(1, prepended.height);
    }

    @Test
    void ascendingSetupFillsLeavesThreeQuartersAndStaysThreeLevelsAt32764() {
        GfnIndex index = ascending(32764, 4);
        assertEquals(2, index.height, "three levels");
        int leaves = 0;
        GfnNode<?> node = index.root;
        while (node instanceof Inner inner) {
            node = inner.children[0];
        }
        for (Leaf leaf = (Leaf) node; leaf != null; leaf = leaf.next) {
            leaves++;
        }
        assertEquals(true, leaves <= 32764 / (CAPACITY + 1 - MIN_FILL) + 1, leaves + " leaves");
        assertSame(null, index.search(16L * 32764, false));
        assertEquals(16L * 1234, index.search(16L * 1234 + 3, false).baseGfn());
    }

    @Test
    void removalsMergeAndBorrowDownToAnEmptyRootLeaf() {
        GfnIndex index = new GfnIndex();
        List<Memslot> slots = new ArrayList<>();
        for (int n = 0; n < 5000; n++) {
            Memslot s = slot(n, 1);
            slots.add(s);
            index.insert(s);
        }
        SplittableRandom random = new SplittableRandom(11);
        while (!slots.isEmpty()) {
            index.remove(slots.remove(random.nextInt(slots.size())));
            if (slots.size() % 97 == 0) {
                index.checkInvariants();
            }
        }
        index.checkInvariants();
        assertEquals(0, index.height);
        assertEquals(0, index.size());
        assertNull(index.search(0, true));
        assertEquals(false, index.inRange(0, -1L).hasNext());
    }

    @Test
    void randomEditsAtThreeLevelsKeepTheParentsCopiesCurrent() {
        // Toggling random slots of 8 000 keeps about 4 000 present: three levels, with splits, merges and
        // borrows at the inner level too, each of which must refresh the copies the search reads.
        GfnIndex index = new GfnIndex();
        TreeMap<Long, Memslot> model = new TreeMap<>();
        SplittableRandom random = new SplittableRandom(7);
        int tallest = 0;
        for (int step = 1; step <= 40_000; step++) {
            Memslot s = slot(random.nextInt(8000), 1 + random.nextInt(16));
            if (model.remove(s.baseGfn()) != null) {
                index.remove(s);
            } else {
                index.insert(s);
                model.put(s.baseGfn(), s);
            }
            tallest = Math.max(tallest, index.height);
            if (step % 1000 == 0) {
                index.checkInvariants();
                for (int q = 0; q < 500; q++) {
                    long gfn = random.nextLong(16 * 8001);
                    assertSame(expectedSearch(model, gfn, false), index.search(gfn, false), "exact " + gfn);
                    assertSame(expectedSearch(model, gfn, true), index.search(gfn, true), "approx " + gfn);
                }
            }
        }
        assertEquals(2, tallest, "three levels reached");
    }

    @Test
    void removingALeafsSmallestSlotMovesItsParentKey() {
        GfnIndex index = ascending(3 * CAPACITY, 1);
        Inner root = (Inner) index.root;
        long second = root.keys[1];
        Memslot first = index.search(second, false);
        Memslot below = index.search(second - 16, false);
        index.remove(first);
        index.checkInvariants();
        // The slot below now grows over the removed slot's range, replaced in place: a lookup there must
        // route to the leaf holding it, which only works if the parent key followed the removal.
        Memslot grown = new Memslot(0, below.id(), below.baseGfn(), 20, 0, 0, null);
        index.replace(grown);
        index.checkInvariants();
        assertSame(grown, index.search(second + 2, false));
        assertSame(grown, index.search(second + 2, true));
    }

    @Test
    void theCheckerCatchesAnUnpaddedKeyAndAStaleSample() {
        GfnIndex index = ascending(20, 1);
        Leaf leaf = (Leaf) index.root;
        leaf.keys[20] = 16L * 20;
        assertEquals(true, assertThrows(IllegalStateException.class, index::checkInvariants)
                .getMessage().startsWith("unused key 20 is not padding"));
        leaf.keys[20] = GfnNode.PAD;
        index.checkInvariants();
        // Still ascending, but the sample of the first group no longer matches: a search near it goes wrong.
        leaf.keys[GfnNode.GROUP - 1]++;
        assertEquals(true, assertThrows(IllegalStateException.class, index::checkInvariants)
                .getMessage().startsWith("stale samples"));
    }

    @Test
    void theCheckerCatchesAStaleCopyInTheParent() {
        GfnIndex index = ascending(3 * CAPACITY, 1);
        Inner root = (Inner) index.root;
        // A child's sample as the parent copied it, off by one: the search would pick the wrong group.
        root.childSamples[GfnNode.SAMPLE_ROW + 2]++;
        assertEquals(true, assertThrows(IllegalStateException.class, index::checkInvariants)
                .getMessage().startsWith("the copies of child 1"));
        root.refresh(1);
        index.checkInvariants();
        root.childKeys[0] = root.childKeys[1];
        assertEquals(true, assertThrows(IllegalStateException.class, index::checkInvariants)
                .getMessage().startsWith("the copies of child 0"));
    }

    @Test
    void rejectsDuplicatesMissingSlotsAndGfnsOutsideTheGpaSpace() {
        GfnIndex index = new GfnIndex();
        index.insert(slot(1, 2));
        assertThrows(IllegalStateException.class, () -> index.insert(slot(1, 1)));
        assertThrows(IllegalStateException.class, () -> index.remove(slot(2, 1)));
        assertThrows(IllegalStateException.class, () -> index.replace(slot(3, 1)));
        assertThrows(IllegalArgumentException.class, () -> index.insert(new Memslot(0, 1, -16, 1, 0, 0, null)));
        assertThrows(IllegalArgumentException.class,
                () -> index.insert(new Memslot(0, 1, InstallChecks.GFN_LIMIT, 1, 0, 0, null)));
        index.checkInvariants();
        assertEquals(1, index.size());
    }

    @Test
    void queriesCompareUnsigned() {
        GfnIndex index = new GfnIndex();
        Memslot low = slot(1, 2);
        Memslot high = new Memslot(0, 2, InstallChecks.GFN_LIMIT - 4, 4, 0, 0, null);
        index.insert(high);
        index.insert(low);
        assertSame(high, index.search(InstallChecks.GFN_LIMIT - 1, false));
        assertNull(index.search(-1L, false));
        assertSame(high, index.search(-1L, true));
        assertSame(high, index.search(Long.MAX_VALUE, true));
        assertSame(high, index.search(Long.MIN_VALUE, true));
        assertSame(low, index.search(0, true));
        assertEquals(List.of(low, high), drain(index.inRange(0, -1L)));
        assertEquals(List.of(), drain(index.inRange(Long.MIN_VALUE, -1L)));
        assertEquals(List.of(high), drain(index.inRange(InstallChecks.GFN_LIMIT - 1, Long.MIN_VALUE)));
        Iterator<Memslot> it = index.inRange(100, 200);
        assertThrows(NoSuchElementException.class, it::next);
    }

    /** Insert slot {@code n}, remove the {@code pick}-th present slot, or regrow one in place; then query. */
    record Step(int kind, int n, long pages, int pick, long gfn, long length) {
    }

    @Provide
    Arbitrary<List<Step>> steps() {
        return Combinators.combine(Arbitraries.integers().between(0, 5), Arbitraries.integers().between(0, 400),
                Arbitraries.longs().between(1, 16), Arbitraries.integers().between(0, 10_000),
                Arbitraries.longs().between(0, 16 * 402), Arbitraries.longs().between(0, 300))
                .as(Step::new).list().ofMaxSize(600);
    }

    @Property(tries = 200)
    void matchesATreeMapOfBaseGfns(@ForAll("steps") List<Step> steps) {
        GfnIndex index = new GfnIndex();
        TreeMap<Long, Memslot> model = new TreeMap<>();
        for (Step step : steps) {
            Memslot s = slot(step.n(), step.pages());
            if (step.kind() <= 2) {
                if (!model.containsKey(s.baseGfn())) {
                    index.insert(s);
                    model.put(s.baseGfn(), s);
                }
            } else if (!model.isEmpty()) {
                Memslot victim = new ArrayList<>(model.values()).get(step.pick() % model.size());
                if (step.kind() == 5) {
                    Memslot regrown = new Memslot(0, victim.id(), victim.baseGfn(), step.pages(), 0, 0, null);
                    index.replace(regrown);
                    model.put(victim.baseGfn(), regrown);
                } else {
                    index.remove(victim);
                    model.remove(victim.baseGfn());
                }
            }
            index.checkInvariants();
            assertEquals(model.size(), index.size());
            assertEquals(List.copyOf(model.values()), drain(index.inRange(0, -1L)));
            for (long gfn : new long[] {step.gfn(), step.gfn() + 1, 0, 16 * step.n() + 15, -1L}) {
                assertSame(expectedSearch(model, gfn, false), index.search(gfn, false), "exact " + gfn);
                assertSame(expectedSearch(model, gfn, true), index.search(gfn, true), "approx " + gfn);
            }
            long end = step.gfn() + step.length();
            assertEquals(expectedRange(model, step.gfn(), end), drain(index.inRange(step.gfn(), end)),
                    "[" + step.gfn() + ", " + end + ")");
        }
    }

    /** Spec §2.2 with the predecessor chosen for a hole, as the index does (the spec allows either). */
    private static Memslot expectedSearch(TreeMap<Long, Memslot> model, long gfn, boolean approx) {
        Map.Entry<Long, Memslot> floor = gfn < 0 ? model.lastEntry() : model.floorEntry(gfn);
        if (floor != null && Long.compareUnsigned(gfn, floor.getValue().endGfn()) < 0) {
            return floor.getValue();
        }
        if (!approx || model.isEmpty()) {
            return null;
        }
        return floor != null ? floor.getValue() : model.firstEntry().getValue();
    }

    private static List<Memslot> expectedRange(TreeMap<Long, Memslot> model, long start, long end) {
        return model.values().stream().filter(s -> Long.compareUnsigned(s.endGfn(), start) > 0
                && Long.compareUnsigned(s.baseGfn(), end) < 0).toList();
    }

    private static List<Integer> childCounts(GfnIndex index) {
        Inner root = (Inner) index.root;
        List<Integer> counts = new ArrayList<>();
        for (int i = 0; i < root.count; i++) {
            counts.add(root.children[i].count);
        }
        return counts;
    }

    private static List<Memslot> drain(Iterator<Memslot> it) {
        List<Memslot> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }
}
