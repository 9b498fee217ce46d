package dev.guestmem.mmu;

import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Allocates page tables and resolves the handles non-leaf SPTEs hold. A Java table has no physical
 * address, so a parent entry's PFN field stores a handle: a slot index of this registry and a tag that
 * changes whenever the slot is reused. A lookup whose tag does not match, or that lands on a FREED
 * table, is a stale link and throws; with the flush-then-grace-period protocol it cannot happen.
 *
 * <p>Allocation and freeing are serialized (they are rare next to lookups); lookups are lock-free: the
 * registry stores a table before the SPTE linking it is published with a volatile CAS, and a walker
 * reads the SPTE with a volatile load before looking the handle up.
 */
final class TablePool {
    private static final int TAG_BITS = 12;
    private static final long TAG_MASK = (1L << TAG_BITS) - 1;
    private static final int INDEX_BITS = 28;
    private static final int CHUNK_BITS = 12;
    private static final int CHUNK = 1 << CHUNK_BITS;
    /**
     * Freed tables kept for their entry arrays: 256 (1 MiB) cover the tables a zap of a busy VM frees
     * between two grace periods ({@code Rcu#BATCH} and more), and bound what an idle VM keeps after a
     * large zap.
     */
    static final int REUSE_LIMIT = 256;

    /** Chunks of slots; the outer array grows by copying, chunks are shared between copies. */
    private volatile PageTable[][] chunks = new PageTable[1][];
    private final ArrayDeque<Integer> freeSlots = new ArrayDeque<>();
    /** Freed tables whose entry arrays new tables take over, oldest first (FIFO, as slots). */
    private final ArrayDeque<PageTable> reusable = new ArrayDeque<>();
    private int nextSlot;
    /** Tables allocated and neither retired nor freed. */
    private final AtomicLong linked = new AtomicLong();
    private final AtomicLong freed = new AtomicLong();

    /** A new empty LIVE table of {@code level} covering the gfns from {@code baseGfn}. */
    synchronized PageTable allocate(int level, long baseGfn) {
        int slot;
        long tag;
        Integer reused = freeSlots.pollFirst();
        if (reused != null) {
            slot = reused;
            tag = (slotAt(slot).handle() + 1) & TAG_MASK;
        } else {
            if (nextSlot == 1 << INDEX_BITS) {
                throw new IllegalStateException("page-table registry exhausted");
            }
            slot = nextSlot++;
            tag = 0;
            ensureChunk(slot >>> CHUNK_BITS);
        }
        long handle = (long) slot << TAG_BITS | tag;
        PageTable spare = reusable.pollFirst();
        PageTable table = spare != null ? spare.reuse(level, baseGfn, handle) : new PageTable(level, baseGfn, handle);
        chunks[slot >>> CHUNK_BITS][slot & (CHUNK - 1)] = table;
        linked.incrementAndGet();
        return table;
    }

    /**
     * Frees {@code table}: poisons it, marks it FREED and makes its slot and its entry array reusable (FIFO,
     * so a stale handle meets the FREED table for as long as possible). Only after the remote flush and a grace
     * period (mmu.md §8.4 rule 6), or for a table that was never visible.
     */
    synchronized void free(PageTable table) {
        if (table.state() == PageTable.State.FREED) {
            throw new IllegalStateException("double free of " + table);
        }
        if (table.state() == PageTable.State.LIVE) {
            linked.decrementAndGet(); // never linked in (a lost race to link it): never retired either
        }
        table.free();
        freeSlots.addLast((int) (table.handle() >>> TAG_BITS));
        if (reusable.size() < REUSE_LIMIT) {
            reusable.addLast(table);
        }
        freed.incrementAndGet();
    }

    /** The table a non-leaf SPTE links. */
    PageTable lookup(long handle) {
        int slot = (int) (handle >>> TAG_BITS);
        PageTable[][] c = chunks;
        PageTable[] chunk = slot >>> CHUNK_BITS < c.length ? c[slot >>> CHUNK_BITS] : null;
        PageTable table = chunk == null ? null : chunk[slot & (CHUNK - 1)];
        if (table == null || table.handle() != handle) {
            throw new IllegalStateException("stale page-table handle 0x" + Long.toHexString(handle));
        }
        return table;
    }

    /** Marks {@code table}, just unlinked from the tree, DETACHED; it no longer counts as live. */
    void retire(PageTable table) {
        table.detach();
        linked.decrementAndGet();
    }

    /** Tables allocated and not retired (nor freed unlinked). */
    long liveTables() {
        return linked.get();
    }

    /** Tables freed so far. */
    long freedTables() {
        return freed.get();
    }

    private PageTable slotAt(int slot) {
        return chunks[slot >>> CHUNK_BITS][slot & (CHUNK - 1)];
    }

    private void ensureChunk(int chunk) {
        PageTable[][] c = chunks;
        if (chunk >= c.length) {
            PageTable[][] grown = new PageTable[Math.max(chunk + 1, c.length * 2)][];
            System.arraycopy(c, 0, grown, 0, c.length);
            c = grown;
        }
        if (c[chunk] == null) {
            c[chunk] = new PageTable[CHUNK];
        }
        chunks = c;
    }
}
