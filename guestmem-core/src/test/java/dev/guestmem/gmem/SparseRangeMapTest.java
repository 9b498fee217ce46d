package dev.guestmem.gmem;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/**
 * {@link SparseRangeMap} against a plain array of 64 indexes: random stores and erases, then every
 * query over every index and every range agrees with the array, and the ranges are maximal (equal
 * neighbours merged, so the representation is as compact as the contents allow).
 */
class SparseRangeMapTest {
    private static final int INDEXES = 64;

    record Store(int start, int length, Integer value) {
    }

    @Property(tries = 200)
    void agreesWithAnArray(@ForAll("programs") List<Store> program) {
        SparseRangeMap<Integer> map = new SparseRangeMap<>();
        Integer[] reference = new Integer[INDEXES];
        for (Store s : program) {
            int end = Math.min(INDEXES, s.start() + s.length());
            map.store(s.start(), end, s.value());
            for (int i = s.start(); i < end; i++) {
                reference[i] = s.value();
            }
            checkAgreement(map, reference);
        }
    }

    private static void checkAgreement(SparseRangeMap<Integer> map, Integer[] reference) {
        for (int i = 0; i < INDEXES; i++) {
            assertEquals(reference[i], map.get(i), "index " + i);
        }
        assertNull(map.get(INDEXES));
        assertNull(map.get(-1L));
        for (int start = 0; start <= INDEXES; start += 3) {
            for (int end = start; end <= INDEXES; end += 5) {
                checkRange(map, reference, start, end);
            }
        }
        assertEquals(maximalRuns(reference), map.rangeCount(), "equal neighbours are merged");
    }

    private static void checkRange(SparseRangeMap<Integer> map, Integer[] reference, int start, int end) {
        boolean any = false;
        for (int i = start; i < end; i++) {
            any |= reference[i] != null;
        }
        assertEquals(any, map.anyIn(start, end), "anyIn " + start + ".." + end);
        List<Integer> covered = new ArrayList<>();
        for (SparseRangeMap.Range<Integer> r : map.intersecting(start, end)) {
            for (long i = Math.max(r.start(), start); i < Math.min(r.end(), end); i++) {
                assertEquals(reference[(int) i], r.value());
                covered.add((int) i);
            }
        }
        List<Integer> expected = new ArrayList<>();
        for (int i = start; i < end; i++) {
            if (reference[i] != null) {
                expected.add(i);
            }
        }
        assertEquals(expected, covered, "intersecting " + start + ".." + end);
        for (Integer value : new Integer[] {null, 1, 2}) {
            boolean uniform = true;
            for (int i = start; i < end; i++) {
                uniform &= Objects.equals(reference[i], value);
            }
            assertEquals(uniform, map.isUniform(start, end, value), "isUniform " + start + ".." + end + " " + value);
        }
    }

    private static int maximalRuns(Integer[] reference) {
        int runs = 0;
        for (int i = 0; i < INDEXES; i++) {
            if (reference[i] != null && (i == 0 || !reference[i].equals(reference[i - 1]))) {
                runs++;
            }
        }
        return runs;
    }

    @Provide
    Arbitrary<List<Store>> programs() {
        Arbitrary<Integer> values = Arbitraries.of(1, 2, 3).injectNull(0.3);
        Arbitrary<Store> store = Combinators.combine(Arbitraries.integers().between(0, INDEXES - 1),
                Arbitraries.integers().between(1, 20), values).as(Store::new);
        return store.list().ofMaxSize(25);
    }

    @Test
    void unsignedIndexesUpToAllOnes() {
        SparseRangeMap<String> map = new SparseRangeMap<>();
        map.store(0x10, 0x20, "low");
        map.store(Long.MIN_VALUE, -1L, "high");
        assertEquals("high", map.get(-2L), "indexes above 2^63 are large, not negative");
        assertNull(map.get(-1L), "the end is exclusive");
        assertEquals(2, map.intersecting(0, -1L).size());
        assertEquals("low", map.intersecting(0, -1L).get(0).value());
        map.store(0, -1L, null);
        assertTrue(map.isEmpty(), "[0, ~0) erases everything stored");
    }

    @Test
    void emptyRangesChangeAndFindNothing() {
        SparseRangeMap<String> map = new SparseRangeMap<>();
        map.store(5, 5, "x");
        map.store(7, 3, "x");
        assertTrue(map.isEmpty());
        map.store(0, 10, "y");
        assertFalse(map.anyIn(4, 4));
        assertTrue(map.isUniform(4, 4, "z"));
        assertTrue(map.intersecting(9, 2).isEmpty());
    }

    @Test
    void aMillionPagesAreOneRange() {
        SparseRangeMap<String> map = new SparseRangeMap<>();
        map.store(0, 1 << 20, "slot");
        map.store(1 << 20, 2 << 20, "slot");
        assertEquals(1, map.rangeCount());
        map.store(100, 101, null);
        assertEquals(2, map.rangeCount());
        assertNull(map.get(100));
        assertEquals("slot", map.get(101));
    }
}
