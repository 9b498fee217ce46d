package dev.guestmem.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/** The persistent AVL tree against {@link TreeMap}, and its persistence. */
class AreaTreeTest {
    private static Area area(long key, long id) {
        return new Area(key * 4096, key * 4096 + 4096, Protection.READ_WRITE, false, id);
    }

    private static Area value(Map.Entry<Long, Area> entry) {
        return entry == null ? null : entry.getValue();
    }

    /** Positive keys insert (or replace), negative keys remove; every query agrees with a TreeMap. */
    @Property(tries = 300)
    void behavesLikeASortedMap(@ForAll @Size(max = 200) List<@IntRange(min = -64, max = 64) Integer> ops) {
        AreaTree tree = AreaTree.EMPTY;
        TreeMap<Long, Area> reference = new TreeMap<>();
        long id = 0;
        for (int op : ops) {
            long key = Math.abs(op);
            if (op >= 0) {
                Area area = area(key, id++);
                tree = tree.put(area);
                reference.put(area.start(), area);
            } else {
                tree = tree.remove(key * 4096);
                reference.remove(key * 4096);
            }
            tree.checkInvariants();
            assertEquals(reference.size(), tree.size());
        }
        assertEquals(new ArrayList<>(reference.values()), tree.toList());
        for (long probe = -4096; probe <= 66 * 4096; probe += 2048) {
            assertEquals(value(reference.floorEntry(probe)), tree.floor(probe), "floor " + probe);
            assertEquals(value(reference.lowerEntry(probe)), tree.lower(probe), "lower " + probe);
            assertEquals(value(reference.higherEntry(probe)), tree.higher(probe), "higher " + probe);
        }
    }

    @Test
    void oldVersionsAreUnaffectedByChanges() {
        AreaTree one = AreaTree.EMPTY.put(area(1, 0)).put(area(2, 0));
        AreaTree two = one.put(area(3, 0)).remove(4096).put(area(2, 7));
        assertEquals(List.of(area(1, 0), area(2, 0)), one.toList());
        assertEquals(List.of(area(2, 7), area(3, 0)), two.toList());
        assertSame(two, two.remove(999 * 4096), "removing nothing returns the same tree");
    }

    @Test
    void staysLogarithmicForSequentialInserts() {
        AreaTree tree = AreaTree.EMPTY;
        for (int i = 0; i < 32_763; i++) {
            tree = tree.put(area(i, i));
        }
        int height = tree.checkInvariants();
        assertTrue(height <= 22, "AVL height bound 1.44 log2(n): " + height);
    }
}
