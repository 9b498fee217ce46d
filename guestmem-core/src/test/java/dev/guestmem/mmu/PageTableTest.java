package dev.guestmem.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
