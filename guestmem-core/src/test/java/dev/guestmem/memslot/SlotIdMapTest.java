package dev.guestmem.memslot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/** The primitive id hash against {@link HashMap}. */
class SlotIdMapTest {
    /** Positive: put that id; negative: remove id {@code -(v + 1)}. */
    @Provide
    Arbitrary<List<Integer>> edits() {
        return Arbitraries.oneOf(Arbitraries.integers().between(0, 40),
                Arbitraries.integers().between(0, KvmLimits.MEM_SLOTS_NUM - 1),
                Arbitraries.integers().between(-41, -1)).list().ofMaxSize(300);
    }

    @Property(tries = 300)
    void behavesLikeAHashMap(@ForAll("edits") List<Integer> edits) {
        SlotIdMap map = new SlotIdMap();
        Map<Integer, Memslot> model = new HashMap<>();
        for (int edit : edits) {
            if (edit >= 0) {
                Memslot slot = new Memslot(0, edit, 0, 1, 0, 0, null);
                map.put(new HvaIntervalTree.HvaNode(slot));
                model.put(edit, slot);
            } else {
                map.remove(-(edit + 1));
                model.remove(-(edit + 1));
            }
            assertEquals(model.size(), map.size());
            for (int id = -1; id <= 41; id++) {
                assertSame(model.get(id), map.get(id), "id " + id);
            }
            model.forEach((id, slot) -> assertSame(slot, map.get(id)));
        }
    }

    @Test
    void growsAndShrinksAcrossEveryId() {
        SlotIdMap map = new SlotIdMap();
        for (int id = 0; id < KvmLimits.MEM_SLOTS_NUM; id++) {
            map.put(new HvaIntervalTree.HvaNode(new Memslot(0, id, id, 1, 0, 0, null)));
        }
        assertEquals(KvmLimits.MEM_SLOTS_NUM, map.size());
        for (int id = 0; id < KvmLimits.MEM_SLOTS_NUM; id += 2) {
            map.remove(id);
        }
        for (int id = 0; id < KvmLimits.MEM_SLOTS_NUM; id++) {
            Memslot s = map.get(id);
            if (id % 2 == 0) {
                assertNull(s);
            } else {
                assertEquals(id, s.baseGfn());
            }
        }
        for (int id = 1; id < KvmLimits.MEM_SLOTS_NUM; id += 2) {
            map.remove(id);
        }
        assertEquals(0, map.size());
        assertNull(map.get(7));
    }
}
