package dev.guestmem.vcpu;

import dev.guestmem.mmu.PageLevel;
import dev.guestmem.mmu.PageTable;
import java.util.Arrays;

/**
 * A vCPU's paging-structure cache: the level-1 and level-2 tables its recent walks went through, keyed
 * by the gfn bits above them. A walk starts from the lowest cached table instead of the root, so, as on
 * hardware, a table that was unlinked but not yet flushed can still be walked — which is why a table
 * may be freed only after the remote flush (mmu.md §8.4 "Hardware model"). Owned by the vCPU's thread.
 */
final class PagingStructureCache {
    private static final int SIZE = 64;
    private static final int MASK = SIZE - 1;

    private final long[] keys1 = new long[SIZE];
    private final PageTable[] tables1 = new PageTable[SIZE];
    private final long[] keys2 = new long[SIZE];
    private final PageTable[] tables2 = new PageTable[SIZE];

    PagingStructureCache() {
        flush();
    }

    /** The cached table of {@code level} (1 or 2) on the way to {@code gfn}, or null. */
    PageTable lookup(long gfn, int level) {
        long key = key(gfn, level);
        int i = (int) key & MASK;
        return level == 1 ? (keys1[i] == key ? tables1[i] : null) : (keys2[i] == key ? tables2[i] : null);
    }

    /** Remembers {@code table} (of level 1 or 2) as the one on the way to {@code gfn}. */
    void insert(long gfn, PageTable table) {
        int level = table.level();
        long key = key(gfn, level);
        int i = (int) key & MASK;
        if (level == 1) {
            keys1[i] = key;
            tables1[i] = table;
        } else if (level == 2) {
            keys2[i] = key;
            tables2[i] = table;
        }
    }

    void flush() {
        Arrays.fill(keys1, -1L);
        Arrays.fill(tables1, null);
        Arrays.fill(keys2, -1L);
        Arrays.fill(tables2, null);
    }

    private static long key(long gfn, int level) {
        return gfn >>> (PageLevel.LEVEL_BITS * level);
    }
}
