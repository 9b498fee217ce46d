package dev.guestmem.memslot;

import static dev.guestmem.memslot.KvmLimits.GEN_UPDATE_IN_PROGRESS;
import static dev.guestmem.memslot.KvmLimits.PAGE_SIZE;
import static dev.guestmem.memslot.Slots.create;
import static dev.guestmem.memslot.Slots.delete;
import static dev.guestmem.memslot.Slots.list;
import static dev.guestmem.memslot.Slots.move;
import static dev.guestmem.memslot.Slots.setFlags;
import static dev.guestmem.memslot.Slots.slot;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.sync.Srcu;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Behaviour both memslot designs must share, run against each. */
class MemslotStoreTest {
    private static MemslotStore store(MemslotImpl impl, int addressSpaces) {
        return impl.create(addressSpaces, new Srcu(), PublishBarrier.NONE);
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void emptyStoreStartsAtGenerationAsIdWithNoSlots(MemslotImpl impl) {
        MemslotStore store = store(impl, 2);
        assertEquals(impl, store.impl());
        assertEquals(2, store.addressSpaces());
        for (int as = 0; as < 2; as++) {
            MemslotSet set = store.active(as);
            assertEquals(as, set.asId());
            assertEquals(as, set.generation());
            assertEquals(0, set.size());
            assertNull(set.byId(0));
            assertNull(set.lookup(0));
            assertNull(set.lookup(0, new VcpuSlotCache()));
            assertNull(set.search(5, true));
            assertEquals(List.of(), list(set.all()));
            assertEquals(List.of(), list(set.inGfnRange(0, -1L)));
            assertEquals(List.of(), list(set.inHvaRange(0, -1L)));
        }
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void generationsAdvanceByTheNumberOfAddressSpaces(MemslotImpl impl) {
        MemslotStore two = store(impl, 2);
        List<Long> as0 = new ArrayList<>();
        List<Long> as1 = new ArrayList<>();
        as0.add(two.active(0).generation());
        as1.add(two.active(1).generation());
        create(two, slot(0, 0, 0, 1, 0x1000));
        as0.add(two.active(0).generation());
        create(two, slot(1, 0, 0, 1, 0x1000));
        as1.add(two.active(1).generation());
        delete(two, 0, 0);
        as0.add(two.active(0).generation());
        assertEquals(List.of(0L, 2L, 6L), as0, "DELETE publishes twice");
        assertEquals(List.of(1L, 3L), as1);

        MemslotStore one = store(impl, 1);
        create(one, slot(0, 0, 0, 1, 0x1000));
        setFlags(one, 0, 0, MemslotFlags.LOG_DIRTY_PAGES);
        assertEquals(2, one.active(0).generation());
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void publicationShowsTheInProgressGenerationOnce(MemslotImpl impl) {
        List<Long> before = new ArrayList<>();
        List<Long> after = new ArrayList<>();
        List<MemslotSet> published = new ArrayList<>();
        MemslotStore[] holder = new MemslotStore[1];
        PublishBarrier inspecting = publish -> {
            before.add(holder[0].active(0).generation());
            publish.run();
            MemslotSet incoming = holder[0].active(0);
            after.add(incoming.generation());
            published.add(incoming);
        };
        MemslotStore store = impl.create(2, new Srcu(), inspecting);
        holder[0] = store;

        Memslot a = create(store, slot(0, 3, 0x100, 16, 0x10000));
        assertEquals(List.of(0L), before);
        assertEquals(List.of(GEN_UPDATE_IN_PROGRESS), after);
        assertSame(published.get(0), store.active(0), "the barrier ran the very store that published");
        assertEquals(2, store.active(0).generation());
        assertSame(a, store.active(0).byId(3));

        move(store, 0, 3, 0x400);
        assertEquals(List.of(0L, 2L, 4L), before, "one publication per install");
        assertEquals(List.of(GEN_UPDATE_IN_PROGRESS, GEN_UPDATE_IN_PROGRESS | 2, GEN_UPDATE_IN_PROGRESS | 4), after);
        assertEquals(6, store.active(0).generation());
        assertEquals(1, store.active(1).generation(), "other address space untouched");
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void lookupsFindCreatedSlots(MemslotImpl impl) {
        MemslotStore store = store(impl, 2);
        Memslot low = create(store, slot(0, 7, 0x10, 0x10, 0x7000_0000L));
        Memslot high = create(store, slot(0, 2, 0x100, 1, 0x7100_0000L));
        Memslot otherAs = create(store, slot(1, 7, 0x10, 0x10, 0x7200_0000L));
        MemslotSet set = store.active(0);
        assertEquals(2, set.size());
        assertSame(low, set.byId(7));
        assertSame(high, set.byId(2));
        assertNull(set.byId(1));
        assertNull(set.byId(-1));
        assertNull(set.byId(KvmLimits.MEM_SLOTS_NUM));
        assertSame(low, set.lookup(0x10));
        assertSame(low, set.lookup(0x1f));
        assertNull(set.lookup(0x20));
        assertNull(set.lookup(0xf));
        assertSame(high, set.lookup(0x100));
        assertNull(set.lookup(0x101));
        assertNull(set.lookup(-1L), "gfns compare unsigned");
        assertSame(high, set.search(0x100, false));
        assertEquals(List.of(low, high), list(set.all()));
        assertSame(otherAs, store.active(1).lookup(0x10));
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void flagsOnlyAndMoveReplaceTheSlotObject(MemslotImpl impl) {
        MemslotStore store = store(impl, 1);
        Memslot a = create(store, slot(0, 1, 0x100, 0x10, 0x10000));
        Memslot b = create(store, slot(0, 2, 0x200, 0x10, 0x20000));
        assertSame(a, store.active(0).lookup(0x105));

        Memslot logged = setFlags(store, 0, 1, MemslotFlags.LOG_DIRTY_PAGES);
        MemslotSet set = store.active(0);
        assertSame(logged, set.byId(1));
        assertSame(logged, set.lookup(0x105), "the last-used cache followed the replaced slot");
        assertEquals(List.of(logged, b), list(set.all()));
        assertEquals(List.of(logged), list(set.inHvaRange(0x10000, 0x10001)));

        Memslot moved = move(store, 0, 1, 0x300);
        set = store.active(0);
        assertNull(set.lookup(0x105));
        assertSame(moved, set.lookup(0x305));
        assertSame(moved, set.byId(1));
        assertEquals(List.of(b, moved), list(set.all()));
        assertEquals(List.of(moved), list(set.inHvaRange(0x10000, 0x10001)));
        assertEquals(2, set.size());
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void invalidSlotsAreReturnedByEveryLookup(MemslotImpl impl) {
        MemslotStore store = store(impl, 1);
        Memslot a = create(store, slot(0, 1, 0x100, 0x10, 0x10000));
        store.install(0, 1, a.invalidCopy());
        MemslotSet set = store.active(0);
        Memslot invalid = set.byId(1);
        assertNotSame(a, invalid);
        assertTrue(invalid.isInvalid());
        assertSame(invalid, set.lookup(0x100));
        assertSame(invalid, set.lookup(0x100, new VcpuSlotCache()));
        assertSame(invalid, set.search(0x10f, false));
        assertEquals(List.of(invalid), list(set.inGfnRange(0, 0x1000)));
        assertEquals(List.of(invalid), list(set.inHvaRange(0x10000, 0x20000)));
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void setWideCacheFollowsInvalidationAndDeletion(MemslotImpl impl) {
        MemslotStore store = store(impl, 1);
        Memslot a = create(store, slot(0, 1, 0x100, 0x10, 0x10000));
        Memslot b = create(store, slot(0, 2, 0x200, 0x10, 0x20000));
        Memslot c = create(store, slot(0, 3, 0x300, 0x10, 0x30000));
        assertSame(a, store.active(0).lookup(0x101));
        assertSame(a, Slots.lastUsed(store.active(0)));

        store.install(0, 1, a.invalidCopy());
        Memslot invalid = store.active(0).lookup(0x101);
        assertTrue(invalid.isInvalid(), "a cached pre-INVALID slot must not be returned");
        store.install(0, 1, null);
        MemslotSet set = store.active(0);
        assertNull(set.lookup(0x101), "a cached deleted slot must not be returned");
        Memslot cached = Slots.lastUsed(set);
        assertTrue(cached == null || cached == b || cached == c, "cache holds a live slot: " + cached);
        if (impl == MemslotImpl.TREE) {
            assertNull(cached, "kvm_replace_memslot moves last_used from old to new (null)");
        }
        assertSame(b, set.lookup(0x20f));
        assertSame(c, set.lookup(0x300));

        // The array's cached index must stay inside the shrunken array.
        assertSame(c, store.active(0).lookup(0x301));
        delete(store, 0, 2);
        delete(store, 0, 3);
        assertNull(store.active(0).lookup(0x301));
        assertNull(Slots.lastUsed(store.active(0)));
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void vcpuCacheIsDroppedWhenTheGenerationChanges(MemslotImpl impl) {
        MemslotStore store = store(impl, 2);
        Memslot a = create(store, slot(0, 1, 0x100, 0x10, 0x10000));
        VcpuSlotCache cache = new VcpuSlotCache();
        assertSame(a, store.active(0).lookup(0x100, cache));
        assertSame(a, store.active(0).lookup(0x10f, cache));

        Memslot readOnly = setFlags(store, 0, 1, MemslotFlags.READONLY);
        assertSame(readOnly, store.active(0).lookup(0x100, cache), "stale slot from the old generation");

        // Generations differ across address spaces, so the cache cannot leak a slot into AS 1.
        Memslot smm = create(store, slot(1, 1, 0x100, 0x10, 0x50000));
        assertSame(smm, store.active(1).lookup(0x100, cache));
        assertSame(readOnly, store.active(0).lookup(0x100, cache));

        assertNull(store.active(0).lookup(0x200, cache));
        cache.reset();
        assertSame(readOnly, store.active(0).lookup(0x101, cache));
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void vcpuMissLeavesTheSetWideCacheAlone(MemslotImpl impl) {
        MemslotStore store = store(impl, 1);
        Memslot a = create(store, slot(0, 1, 0x100, 0x10, 0x10000));
        Memslot b = create(store, slot(0, 2, 0x200, 0x10, 0x20000));
        MemslotSet set = store.active(0);
        assertSame(b, set.lookup(0x200));
        assertSame(b, Slots.lastUsed(set));
        VcpuSlotCache cache = new VcpuSlotCache();
        assertSame(a, set.lookup(0x100, cache));
        assertSame(b, Slots.lastUsed(set));
        assertSame(a, set.lookup(0x101));
        assertSame(a, Slots.lastUsed(set));
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void approximateSearchReturnsASlotBorderingTheHole(MemslotImpl impl) {
        MemslotStore store = store(impl, 1);
        Memslot a = create(store, slot(0, 1, 10, 10, 0x10000));
        Memslot b = create(store, slot(0, 2, 40, 10, 0x20000));
        Memslot c = create(store, slot(0, 3, 100, 1, 0x30000));
        MemslotSet set = store.active(0);
        assertNull(set.search(30, false));
        assertTrue(Set.of(a, b).contains(set.search(30, true)));
        assertTrue(Set.of(a, b).contains(set.search(20, true)));
        assertTrue(Set.of(b, c).contains(set.search(99, true)));
        assertSame(a, set.search(0, true), "below every slot only the lowest borders");
        assertSame(c, set.search(1000, true), "above every slot only the highest borders");
        assertSame(c, set.search(-1L, true), "gfns compare unsigned");
        assertSame(b, set.search(45, true));
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void gfnRangeFollowsTheHalfOpenIntersectionRule(MemslotImpl impl) {
        MemslotStore store = store(impl, 1);
        Memslot a = create(store, slot(0, 5, 10, 10, 0x10000));
        Memslot b = create(store, slot(0, 1, 20, 5, 0x20000));
        Memslot c = create(store, slot(0, 9, 40, 1, 0x30000));
        MemslotSet set = store.active(0);
        assertEquals(List.of(), list(set.inGfnRange(0, 10)));
        assertEquals(List.of(a), list(set.inGfnRange(0, 11)));
        assertEquals(List.of(a), list(set.inGfnRange(19, 20)));
        assertEquals(List.of(a, b), list(set.inGfnRange(19, 21)));
        assertEquals(List.of(b), list(set.inGfnRange(20, 40)));
        assertEquals(List.of(), list(set.inGfnRange(25, 40)));
        assertEquals(List.of(b, c), list(set.inGfnRange(24, 41)));
        assertEquals(List.of(c), list(set.inGfnRange(40, -1L)));
        assertEquals(List.of(), list(set.inGfnRange(41, -1L)));
        assertEquals(List.of(a, b, c), list(set.inGfnRange(0, -1L)));
        assertEquals(List.of(), list(set.inGfnRange(30, 10)));
        // §2.3 tests only base < end, so a degenerate range still yields the slot containing start.
        assertEquals(List.of(a), list(set.inGfnRange(15, 15)));
        assertEquals(List.of(a), list(set.inGfnRange(17, 12)));
        assertEquals(List.of(), list(set.inGfnRange(20, 20)));
        assertEquals(List.of(a, b, c), list(set.all()));
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void hvaRangeFindsEveryAliasOfTheHostRange(MemslotImpl impl) {
        MemslotStore store = store(impl, 1);
        long base = 0x7f00_0000_0000L;
        Memslot a = create(store, slot(0, 4, 0x100, 4, base));
        Memslot alias = create(store, slot(0, 2, 0x900, 4, base));
        Memslot tail = create(store, slot(0, 3, 0x500, 4, base + 2 * PAGE_SIZE));
        Memslot far = create(store, slot(0, 1, 0x200, 1, base + 0x100_0000));
        MemslotSet set = store.active(0);

        List<Memslot> hits = list(set.inHvaRange(base + PAGE_SIZE, base + 3 * PAGE_SIZE));
        List<Memslot> expected = impl == MemslotImpl.TREE
                ? List.of(alias, a, tail) // by start address, then id
                : List.of(alias, tail, a); // by decreasing base gfn
        assertEquals(expected, hits);
        assertEquals(Set.of(a, alias), Set.copyOf(list(set.inHvaRange(base - PAGE_SIZE, base + 1))));
        assertEquals(List.of(), list(set.inHvaRange(base - PAGE_SIZE, base)), "end is exclusive");
        assertEquals(List.of(tail), list(set.inHvaRange(base + 4 * PAGE_SIZE, base + 6 * PAGE_SIZE)));
        assertEquals(List.of(), list(set.inHvaRange(base + 6 * PAGE_SIZE, base + 0x100_0000)));
        assertEquals(List.of(far), list(set.inHvaRange(base + 0x100_0fff, base + 0x100_1000)));
        assertEquals(List.of(), list(set.inHvaRange(base + 0x100_1000, -1L)));
        assertEquals(List.of(), list(set.inHvaRange(base + PAGE_SIZE, base + PAGE_SIZE)));
        assertEquals(4, list(set.inHvaRange(0, -1L)).size());
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void malformedInstallsAreRejectedWithoutPublishing(MemslotImpl impl) {
        int[] publications = new int[1];
        MemslotStore store = impl.create(2, new Srcu(), publish -> {
            publications[0]++;
            publish.run();
        });
        Memslot a = create(store, slot(0, 1, 0x100, 0x10, 0x10000));
        assertThrows(IllegalArgumentException.class, () -> store.install(0, 2, slot(0, 2, 0x10f, 1, 0)));
        assertThrows(IllegalArgumentException.class, () -> store.install(0, 2, slot(0, 2, 0x80, 0x81, 0)));
        assertThrows(IllegalArgumentException.class, () -> store.install(0, 2, slot(0, 3, 0x0, 1, 0)));
        assertThrows(IllegalArgumentException.class, () -> store.install(0, 2, slot(1, 2, 0x0, 1, 0)));
        assertThrows(IllegalArgumentException.class, () -> store.install(0, 2, null));
        assertThrows(IllegalArgumentException.class, () -> store.install(0, -1, null));
        assertThrows(IllegalArgumentException.class, () -> store.install(0, 2, slot(0, 2, 1L << 52, 1, 0)));
        assertThrows(IllegalArgumentException.class,
                () -> store.install(0, 2, slot(0, 2, (1L << 52) - 1, 2, 0)));
        assertEquals(1, publications[0]);
        assertEquals(2, store.active(0).generation());
        assertEquals(List.of(a), list(store.active(0).all()));
        // The same id may overlap itself (MOVE by less than the slot size).
        Memslot shifted = slot(0, 1, 0x108, 0x10, 0x10000);
        store.install(0, 1, shifted);
        assertSame(shifted, store.active(0).lookup(0x117));
        Memslot last = slot(0, 2, (1L << 52) - 1, 1, 0);
        store.install(0, 2, last);
        assertSame(last, store.active(0).lookup((1L << 52) - 1));
        Slots.checkInvariants(store);
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void aBarrierFailingBeforePublicationLeavesTheStoreAsItWas(MemslotImpl impl) {
        boolean[] fail = new boolean[1];
        MemslotStore store = impl.create(1, new Srcu(), publish -> {
            if (fail[0]) {
                throw new IllegalStateException("interrupted");
            }
            publish.run();
        });
        Memslot a = create(store, slot(0, 1, 0x100, 0x10, 0x10000));
        MemslotSet before = store.active(0);
        fail[0] = true;
        assertThrows(IllegalStateException.class, () -> store.install(0, 2, slot(0, 2, 0x200, 1, 0)));
        assertThrows(IllegalStateException.class, () -> store.install(0, 1, a.invalidCopy()));
        assertThrows(IllegalStateException.class, () -> store.install(0, 1, null));
        assertSame(before, store.active(0));
        assertEquals(1, before.generation());
        assertEquals(List.of(a), list(before.all()));
        Slots.checkInvariants(store);

        fail[0] = false;
        Memslot b = create(store, slot(0, 2, 0x200, 1, 0));
        assertEquals(List.of(a, b), list(store.active(0).all()));
        assertEquals(2, store.active(0).generation());
        Slots.checkInvariants(store);
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void aBarrierThatNeverPublishesIsDetected(MemslotImpl impl) {
        MemslotStore store = impl.create(1, new Srcu(), publish -> { });
        assertThrows(IllegalStateException.class, () -> store.install(0, 1, slot(0, 1, 0, 1, 0)));
        assertEquals(0, store.active(0).size());
        assertEquals(0, store.active(0).generation());
        Slots.checkInvariants(store);
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void fillsEveryUserSlot(MemslotImpl impl) {
        MemslotStore store = store(impl, 1);
        int count = 32_763;
        // Increasing gfns: each new slot is the highest, the worst case for the descending array.
        for (int id = 0; id < count; id++) {
            store.install(0, id, slot(0, id, 2L * id, 1, 0x10000L + id * PAGE_SIZE));
        }
        MemslotSet set = store.active(0);
        assertEquals(count, set.size());
        assertEquals(count, set.generation(), "one address space: stride 1");
        for (int id = 0; id < count; id += 997) {
            Memslot s = set.byId(id);
            assertEquals(2L * id, s.baseGfn());
            assertSame(s, set.lookup(2L * id));
            assertNull(set.lookup(2L * id + 1));
            assertEquals(List.of(s), list(set.inHvaRange(s.userspaceAddr(), s.hvaEnd())));
        }
        List<Memslot> all = list(set.all());
        assertEquals(count, all.size());
        assertTrue(all.stream().map(Memslot::baseGfn).sorted(Comparator.naturalOrder()).toList()
                .equals(all.stream().map(Memslot::baseGfn).toList()));
        Slots.checkInvariants(store);
    }
}
