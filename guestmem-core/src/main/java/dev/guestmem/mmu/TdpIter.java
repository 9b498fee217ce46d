package dev.guestmem.mmu;

/**
 * Pre-order walk over the SPTEs of a gfn range, like the kernel's {@code tdp_iter} (mmu.md §6.5): from
 * the root down to {@code minLevel}, visiting each entry that intersects {@code [start, end)} before its
 * children. The walk descends into a child table only after re-reading the entry ({@code tdp_iter}
 * re-reads right before stepping down), so it never enters a table it saw being unlinked. After the
 * MMU lock was dropped and retaken, {@link #restart()} walks again from the root at the first gfn not yet
 * finished; cached {@link #old()} values are stale by then.
 *
 * <p>Must be used inside an RCU read section.
 */
final class TdpIter {
    private final TablePool pool;
    private final PageTable root;
    private final long end;
    private final int minLevel;
    private final PageTable[] path = new PageTable[PageLevel.ROOT + 1];
    /** First gfn not yet fully processed ({@code next_last_level_gfn}). */
    private long target;
    private int level;
    private long gfn;
    private long old;
    private boolean valid;

    TdpIter(TablePool pool, PageTable root, long start, long end, int minLevel) {
        this.pool = pool;
        this.root = root;
        this.end = end;
        this.minLevel = minLevel;
        this.target = start;
        restart();
    }

    /** Starts over from the root at {@link #target()}. */
    void restart() {
        level = PageLevel.ROOT;
        path[level] = root;
        gfn = PageLevel.round(target, level);
        valid = Long.compareUnsigned(target, end) < 0;
        if (valid) {
            old = root.get(index());
        }
    }

    boolean valid() {
        return valid;
    }

    int level() {
        return level;
    }

    /** The first gfn the current entry covers. */
    long gfn() {
        return gfn;
    }

    /** The first gfn not yet fully processed: where a restart resumes. */
    long target() {
        return target;
    }

    /** The value of the current entry when it was last read. */
    long old() {
        return old;
    }

    /** Replaces the cached value, e.g. with the witness of a failed CAS. */
    void setOld(long value) {
        old = value;
    }

    /** Re-reads the current entry. */
    long refresh() {
        old = table().get(index());
        return old;
    }

    PageTable table() {
        return path[level];
    }

    int index() {
        return PageLevel.index(gfn, level);
    }

    /** Moves to the next entry in pre-order, descending into a present non-leaf above {@code minLevel}. */
    void next() {
        if (level > minLevel && Spte.isPresent(old) && !Spte.isLeaf(old, level)) {
            long fresh = table().get(index());
            if (Spte.isPresent(fresh) && !Spte.isLeaf(fresh, level)) {
                PageTable child = pool.lookup(Spte.pfn(fresh));
                level--;
                path[level] = child;
                gfn = PageLevel.round(target, level);
                old = child.get(index());
                return;
            }
        }
        stepSide();
    }

    /** Skips the current entry's subtree. */
    void skipChildren() {
        stepSide();
    }

    private void stepSide() {
        while (index() == PageLevel.ENTRIES - 1) {
            if (level == PageLevel.ROOT) {
                valid = false;
                return;
            }
            level++;
        }
        gfn = PageLevel.round(gfn, level) + PageLevel.pages(level);
        target = gfn;
        if (Long.compareUnsigned(gfn, end) >= 0 || gfn == 0) {
            valid = false;
            return;
        }
        old = table().get(index());
    }
}
