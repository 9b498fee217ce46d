package dev.guestmem.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Table entries through the VarHandle operations, handles, and detection of stale accesses. */
class PageTableTest {
    private final TablePool pool = new TablePool();

    @Test
    void entriesStartNonPresentAndChangeOnlyAsAsked() {
        PageTable t = pool.allocate(1, 0x200);
        assertEquals(Spte.NONPRESENT, t.get(3));
        assertEquals(Spte.NONPRESENT, t.cas(3, Spte.NONPRESENT, 5), "success returns the expected value");
        assertEquals(5, t.cas(3, Spte.NONPRESENT, 6), "failure returns the witness");
        assertEquals(5, t.get(3));
        assertEquals(5, t.xchg(3, 0x11 | Spte.W));
        assertEquals(0x11 | Spte.W, t.clearBits(3, Spte.W));
        assertEquals(0x11, t.get(3));
        assertEquals(0x200 + 3, t.gfnAt(3));
    }

    /**
     * The write-lock scans against a brute-force reading of every entry, for random fillings made through
     * each store operation, including entries emptied again and values that went through FROZEN.
     */
    @Test
    void scansFindExactlyTheEntriesInUseWhateverStoredThem() {
        SplittableRandom random = new SplittableRandom(11);
        for (int round = 0; round < 200; round++) {
            PageTable t = pool.allocate(1, 0);
            int writes = random.nextInt(1, 40);
            for (int w = 0; w < writes; w++) {
                int i = random.nextInt(PageLevel.ENTRIES);
                long value = switch (random.nextInt(4)) {
                    case 0 -> Spte.makeLeaf(0x1000 + i, PageLevel.PG_4K, true, random.nextBoolean());
                    case 1 -> Spte.makeMmio(i, 3);
                    case 2 -> Spte.FROZEN;
                    default -> Spte.NONPRESENT;
                };
                switch (random.nextInt(3)) {
                    case 0 -> t.cas(i, t.get(i), value);
                    case 1 -> t.xchg(i, value);
                    default -> t.store(i, value);
                }
            }
            for (int i = 0; i < PageLevel.ENTRIES; i++) {
                if (t.get(i) == Spte.FROZEN) {
                    t.store(i, Spte.makeLeaf(0x2000 + i, PageLevel.PG_4K, true, false)); // a freezer's final value
                }
            }
            for (int from = 0; from <= PageLevel.ENTRIES; from++) {
                assertEquals(bruteForce(t, from, true), t.nextPresent(from), "present from " + from);
                assertEquals(bruteForce(t, from, false), t.nextInUse(from), "in use from " + from);
            }
            pool.free(t);
        }
    }

    private static int bruteForce(PageTable t, int from, boolean presentOnly) {
        for (int i = from; i < PageLevel.ENTRIES; i++) {
            long e = t.get(i);
            if (presentOnly ? Spte.isPresent(e) : e != Spte.NONPRESENT) {
                return i;
            }
        }
        return PageLevel.ENTRIES;
    }

    @Test
    void aTableBuiltOnAFreedTablesEntriesStartsEmptyAndTheOldOneStaysFreed() {
        PageTable old = pool.allocate(1, 0x200);
        old.cas(5, Spte.NONPRESENT, Spte.makeLeaf(0x1005, PageLevel.PG_4K, true, true));
        old.store(300, Spte.makeMmio(0x32c, 1));
        old.xchg(77, Spte.FROZEN); // a removed table's entries stay frozen until it is freed
        pool.free(old);
        PageTable next = pool.allocate(2, 0x40000);
        assertEquals(PageTable.State.LIVE, next.state());
        assertEquals(0x40000, next.baseGfn());
        assertEquals(2, next.level());
        for (int i = 0; i < PageLevel.ENTRIES; i++) {
            assertEquals(Spte.NONPRESENT, next.get(i), "entry " + i);
        }
        assertEquals(PageLevel.ENTRIES, next.nextInUse(0));
        assertThrows(IllegalStateException.class, () -> old.get(5), "the freed table still throws");
        assertThrows(IllegalStateException.class, () -> pool.lookup(old.handle()));
        assertSame(next, pool.lookup(next.handle()));
    }

    @Test
    void handlesResolveToTheirTableAndNeverToItsSuccessor() {
        PageTable a = pool.allocate(2, 0);
        assertSame(a, pool.lookup(a.handle()));
        pool.free(a);
        assertThrows(IllegalStateException.class, () -> a.get(0), "a freed table is poisoned");
        assertThrows(IllegalStateException.class, () -> pool.free(a), "double free");
        assertEquals(PageTable.State.FREED, a.state());
        PageTable b = pool.allocate(2, 0);
        assertNotEquals(a.handle(), b.handle());
        assertThrows(IllegalStateException.class, () -> pool.lookup(a.handle()), "stale handle");
        assertSame(b, pool.lookup(b.handle()));
    }

    @Test
    void manyTablesGrowTheRegistry() {
        PageTable last = null;
        for (int i = 0; i < 10_000; i++) {
            last = pool.allocate(1, i * 512L);
        }
        assertSame(last, pool.lookup(last.handle()));
        assertEquals(10_000, pool.liveTables());
    }
}
