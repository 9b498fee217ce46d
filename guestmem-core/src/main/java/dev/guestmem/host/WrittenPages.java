package dev.guestmem.host;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which host pages have been written since they were last discarded, the state that decides whether a
 * read fault may map a page writable (trace-format "semantics worth knowing": fast GUP finds a writable
 * PTE only on a page written since its last discard).
 *
 * <p>Kept as a sparse set of 2 MiB chunks, each a 512-bit bitmap allocated on the first write into it,
 * so that a 64 GiB {@code MAP_NORESERVE} mapping costs nothing until it is touched. Independent of the
 * area registry, so splitting and merging areas never has to move bits. Marking is lock-free (an atomic
 * OR, skipped when the bit is already set); clearing is done by the address-space writer.
 */
final class WrittenPages {
    private static final int PAGE_SHIFT = 12;
    /** 512 pages per chunk: one 2 MiB huge frame. */
    private static final int CHUNK_PAGE_SHIFT = 9;
    private static final int PAGES_PER_CHUNK = 1 << CHUNK_PAGE_SHIFT;
    private static final int WORDS_PER_CHUNK = PAGES_PER_CHUNK / Long.SIZE;
    private static final VarHandle WORD = MethodHandles.arrayElementVarHandle(long[].class);

    private final ConcurrentHashMap<Long, long[]> chunks = new ConcurrentHashMap<>();

    /** Marks the page containing {@code hva} written. */
    void mark(long hva) {
        long pfn = hva >>> PAGE_SHIFT;
        long[] bits = chunks.get(pfn >>> CHUNK_PAGE_SHIFT);
        if (bits == null) {
            bits = chunks.computeIfAbsent(pfn >>> CHUNK_PAGE_SHIFT, key -> new long[WORDS_PER_CHUNK]);
        }
        int bit = (int) (pfn & (PAGES_PER_CHUNK - 1));
        long mask = 1L << (bit & 63);
        // Reading first keeps hot pages from bouncing their cache line between writers.
        if (((long) WORD.getAcquire(bits, bit >>> 6) & mask) == 0) {
            WORD.getAndBitwiseOr(bits, bit >>> 6, mask);
        }
    }

    /** Marks every page overlapping {@code [start, end)} written ({@code end} exclusive, > start). */
    void markRange(long start, long end) {
        for (long page = start & -HostMemory.PAGE_SIZE; Long.compareUnsigned(page, end) < 0;
                page += HostMemory.PAGE_SIZE) {
            mark(page);
        }
    }

    /** Whether the page containing {@code hva} has been written since it was last cleared. */
    boolean isMarked(long hva) {
        long pfn = hva >>> PAGE_SHIFT;
        long[] bits = chunks.get(pfn >>> CHUNK_PAGE_SHIFT);
        if (bits == null) {
            return false;
        }
        int bit = (int) (pfn & (PAGES_PER_CHUNK - 1));
        return ((long) WORD.getAcquire(bits, bit >>> 6) & (1L << (bit & 63))) != 0;
    }

    /** Whether some page of the page-aligned range {@code [start, end)} has been written. */
    boolean anyMarked(long start, long end) {
        long firstPfn = start >>> PAGE_SHIFT;
        long endPfn = end >>> PAGE_SHIFT;
        long lastChunk = (endPfn - 1) >>> CHUNK_PAGE_SHIFT;
        for (long chunk = firstPfn >>> CHUNK_PAGE_SHIFT; chunk <= lastChunk; chunk++) {
            long[] bits = chunks.get(chunk);
            if (bits == null) {
                continue;
            }
            long chunkFirst = chunk << CHUNK_PAGE_SHIFT;
            long from = Math.max(firstPfn, chunkFirst) - chunkFirst;
            long to = Math.min(endPfn, chunkFirst + PAGES_PER_CHUNK) - chunkFirst;
            for (long page = from; page < to; page++) {
                if (((long) WORD.getAcquire(bits, (int) page >>> 6) & (1L << (page & 63))) != 0) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Whether every page overlapping {@code [start, end)} is marked ({@code end} exclusive, > start). */
    boolean allMarked(long start, long end) {
        for (long page = start & -HostMemory.PAGE_SIZE; Long.compareUnsigned(page, end) < 0;
                page += HostMemory.PAGE_SIZE) {
            if (!isMarked(page)) {
                return false;
            }
        }
        return true;
    }

    /** Clears the pages of the page-aligned range {@code [start, end)}. */
    void clear(long start, long end) {
        long firstPfn = start >>> PAGE_SHIFT;
        long endPfn = end >>> PAGE_SHIFT;
        long firstChunk = firstPfn >>> CHUNK_PAGE_SHIFT;
        long lastChunk = (endPfn - 1) >>> CHUNK_PAGE_SHIFT;
        if (lastChunk - firstChunk + 1 > chunks.size()) {
            // Huge range, few chunks: visit the chunks that exist instead of every chunk number.
            for (Long chunk : chunks.keySet()) {
                if (chunk >= firstChunk && chunk <= lastChunk) {
                    clearInChunk(chunk, firstPfn, endPfn);
                }
            }
        } else {
            for (long chunk = firstChunk; chunk <= lastChunk; chunk++) {
                clearInChunk(chunk, firstPfn, endPfn);
            }
        }
    }

    private void clearInChunk(long chunk, long firstPfn, long endPfn) {
        long chunkFirst = chunk << CHUNK_PAGE_SHIFT;
        long from = Math.max(firstPfn, chunkFirst) - chunkFirst;
        long to = Math.min(endPfn, chunkFirst + PAGES_PER_CHUNK) - chunkFirst;
        if (from == 0 && to == PAGES_PER_CHUNK) {
            chunks.remove(chunk);
            return;
        }
        long[] bits = chunks.get(chunk);
        if (bits == null) {
            return;
        }
        for (long page = from; page < to; page++) {
            int bit = (int) page;
            WORD.getAndBitwiseAnd(bits, bit >>> 6, ~(1L << (bit & 63)));
        }
    }
}
