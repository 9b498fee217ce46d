package dev.guestmem.mmu;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

/**
 * One TDP page table: 512 SPTEs of one level, covering the gfns from {@link #baseGfn()}. Every access
 * goes through the methods below, each a single {@link VarHandle} operation on the entry (mmu.md §8.4;
 * a store of a value first marks the entry's block of eight in use, for the scans), and each
 * first checks that the table has not been freed: a stale access is a bug of the flush or grace-period
 * protocol, and is reported instead of silently reading recycled memory.
 *
 * <p>Lifecycle ({@link State}): LIVE while linked in the tree; DETACHED once its parent entry no longer
 * points at it (software walkers inside an RCU read section and vCPUs whose paging-structure caches
 * have not been flushed may still read it); FREED after the remote flush and an RCU grace period, when
 * its entries are poisoned.
 */
public final class PageTable {
    /** Where a table is in its life. */
    public enum State {
        LIVE,
        DETACHED,
        FREED
    }

    /** What a freed table's entries are filled with: MMU-present garbage no walker may trust. */
    static final long POISON = 0xDEAD_0000_0000_0800L;

    private static final VarHandle ENTRY = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle IN_USE;
    /** Entries per bit of {@link #inUse}, as a shift: 8 entries, so 64 bits cover the table. */
    private static final int BLOCK_SHIFT = 3;

    static {
        try {
            IN_USE = MethodHandles.lookup().findVarHandle(PageTable.class, "inUse", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final long[] entries;
    /**
     * Bit {@code b} is set once any of the entries {@code [8b, 8b + 8)} has held something other than
     * {@link Spte#NONPRESENT} (FROZEN included), before that value is stored, and never cleared: a scan
     * under the write lock ({@link #nextPresent}, {@link #nextInUse}) skips the blocks whose bit is clear,
     * so a zap of a mostly empty table reads a few entries, not 512.
     */
    @SuppressWarnings("unused") // through IN_USE
    private volatile long inUse;
    private final int level;
    private final long baseGfn;
    private final long handle;
    private volatile State state = State.LIVE;

    PageTable(int level, long baseGfn, long handle) {
        this(level, baseGfn, handle, new long[PageLevel.ENTRIES]);
        Arrays.fill(entries, Spte.NONPRESENT);
    }

    /** A table over {@code entries}, which must all be {@link Spte#NONPRESENT}. */
    private PageTable(int level, long baseGfn, long handle, long[] entries) {
        this.level = level;
        this.baseGfn = baseGfn;
        this.handle = handle;
        this.entries = entries;
    }

    /**
     * A new LIVE table over this FREED table's entries, emptied again: only the blocks that ever held a
     * value need rewriting, where a new table fills 4 KiB (the first faults after a zap allocate a table
     * per level). This object stays FREED, so an access through it still throws.
     */
    PageTable reuse(int level, long baseGfn, long handle) {
        if (state != State.FREED) {
            throw new IllegalStateException("reuse of a table that is not freed: " + this);
        }
        fillBlocksInUse(Spte.NONPRESENT);
        return new PageTable(level, baseGfn, handle, entries);
    }

    public int level() {
        return level;
    }

    /** The first gfn this table covers. */
    public long baseGfn() {
        return baseGfn;
    }

    /** The value a parent SPTE's PFN field holds to link this table. */
    public long handle() {
        return handle;
    }

    public State state() {
        return state;
    }

    /** The first gfn covered by entry {@code index}. */
    public long gfnAt(int index) {
        return baseGfn + index * PageLevel.pages(level);
    }

    // ---------------------------------------------------------------------------------------------
    // Entry access: one VarHandle operation each

    /** {@code READ_ONCE} of entry {@code index}. */
    public long get(int index) {
        assertNotFreed();
        return (long) ENTRY.getVolatile(entries, index);
    }

    /**
     * The first index at or after {@code from} whose entry is MMU-present, or {@link PageLevel#ENTRIES}.
     * A scan with plain reads, for a write-lock holder: non-present entries only change under the lock,
     * and the caller takes a present one with an atomic operation, which reads it afresh.
     */
    int nextPresent(int from) {
        return next(from, true);
    }

    /**
     * The first index at or after {@code from} whose entry is anything but {@link Spte#NONPRESENT} (present,
     * MMIO), or {@link PageLevel#ENTRIES}; for a write-lock holder, as {@link #nextPresent}.
     */
    int nextInUse(int from) {
        return next(from, false);
    }

    private int next(int from, boolean presentOnly) {
        assertNotFreed();
        long[] e = entries;
        long blocks = (long) IN_USE.getVolatile(this);
        int i = from;
        while (i < e.length) {
            long ahead = blocks & (-1L << (i >>> BLOCK_SHIFT));
            if (ahead == 0) {
                break;
            }
            int block = Long.numberOfTrailingZeros(ahead);
            int end = (block + 1) << BLOCK_SHIFT;
            for (i = Math.max(i, block << BLOCK_SHIFT); i < end; i++) {
                if (presentOnly ? Spte.isPresent(e[i]) : e[i] != Spte.NONPRESENT) {
                    return i;
                }
            }
        }
        return e.length;
    }

    /**
     * Sets the {@link #inUse} bit of {@code index} before {@code spte} is stored there, unless it is
     * {@link Spte#NONPRESENT}. FROZEN counts: a removed table's entries stay frozen until it is freed, and
     * {@link #reuse} must empty them.
     */
    private void noteUse(int index, long spte) {
        if (spte == Spte.NONPRESENT) {
            return;
        }
        long bit = 1L << (index >>> BLOCK_SHIFT);
        if (((long) IN_USE.getVolatile(this) & bit) == 0) {
            IN_USE.getAndBitwiseOr(this, bit);
        }
    }

    /**
     * {@code try_cmpxchg64}: stores {@code newSpte} if the entry is {@code expected}; returns the witness,
     * so success is {@code witness == expected} and failure hands back the fresh value.
     */
    public long cas(int index, long expected, long newSpte) {
        assertNotFreed();
        noteUse(index, newSpte);
        return (long) ENTRY.compareAndExchange(entries, index, expected, newSpte);
    }

    /** {@code xchg}: stores {@code newSpte}, returns the previous value (with any bit set concurrently). */
    public long xchg(int index, long newSpte) {
        assertNotFreed();
        noteUse(index, newSpte);
        return (long) ENTRY.getAndSet(entries, index, newSpte);
    }

    /** {@code atomic64_fetch_and(~mask)}: clears {@code mask}, returns the previous value. */
    public long clearBits(int index, long mask) {
        assertNotFreed();
        return (long) ENTRY.getAndBitwiseAnd(entries, index, ~mask);
    }

    /**
     * Plain store, for the owner of the entry only: the freezer publishing its final value (§6.3), or a
     * write-lock holder storing over a value no lockless writer can touch (not a present leaf).
     */
    public void store(int index, long spte) {
        assertNotFreed();
        noteUse(index, spte);
        ENTRY.setVolatile(entries, index, spte);
    }

    // ---------------------------------------------------------------------------------------------
    // Lifecycle

    /** Unlinked from its parent: only RCU readers and unflushed paging-structure caches may still see it. */
    void detach() {
        state = State.DETACHED;
    }

    /**
     * Poisons the entries that ever held a value and marks the table FREED; any later access throws. The
     * other entries stay {@link Spte#NONPRESENT}: a stale walker reading one faults, and the fault path
     * walks live tables only, so only a stale value could be used as a translation, and those are the ones
     * poisoned (a zap of a table holding a few leaves writes a few blocks, not 4 KiB).
     */
    void free() {
        fillBlocksInUse(POISON);
        state = State.FREED;
    }

    private void fillBlocksInUse(long value) {
        for (long blocks = (long) IN_USE.getVolatile(this); blocks != 0; blocks &= blocks - 1) {
            int start = Long.numberOfTrailingZeros(blocks) << BLOCK_SHIFT;
            Arrays.fill(entries, start, start + (1 << BLOCK_SHIFT), value);
        }
    }

    private void assertNotFreed() {
        if (state == State.FREED) {
            throw new IllegalStateException("access to freed page table " + this);
        }
    }

    @Override
    public String toString() {
        return "PageTable[level=" + level + " gfn=0x" + Long.toHexString(baseGfn) + " handle=0x"
                + Long.toHexString(handle) + " " + state + "]";
    }
}
