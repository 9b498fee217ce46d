package dev.guestmem.host;

import java.util.ArrayList;
import java.util.List;

/**
 * Address ranges that {@link HostMemory} unmapped but keeps reserved ({@code PROT_NONE}) so that nothing
 * else in the process lands there while a memslot may still point at them, and hands out again to later
 * mappings.
 *
 * <p>Which range a mapping reuses depends only on the order of the unmaps and mappings, never on where
 * the kernel happened to place them: ranges are kept in the order they were released, are never merged
 * with a neighbour, and a mapping takes the head of the first one long enough. Two replays of one trace
 * in different processes (the engine's and the kernel's, whose mmap(2) picks different addresses and may
 * or may not put two mappings side by side) therefore reuse the same released mapping for the same
 * {@code mmap}, so a stale memslot reaches the new mapping in both or in neither. Not thread-safe: used
 * under the address-space lock.
 */
final class Reservations {
    /** Reserved ranges as {@code {start, end}} (end exclusive), oldest release first. */
    private final List<long[]> ranges = new ArrayList<>();

    /** Records {@code [start, end)} as reserved, after every range reserved before. */
    void add(long start, long end) {
        ranges.add(new long[] {start, end});
    }

    /**
     * Takes the first {@code length} bytes of the oldest reserved range that is long enough; the rest of
     * it keeps its place in the order.
     *
     * @return the start of the taken range, or -1 when no reserved range is long enough
     */
    long take(long length) {
        for (int i = 0; i < ranges.size(); i++) {
            long[] range = ranges.get(i);
            long start = range[0];
            if (range[1] - start >= length) {
                if (range[1] - start == length) {
                    ranges.remove(i);
                } else {
                    range[0] = start + length;
                }
                return start;
            }
        }
        return -1;
    }

    /** Removes and returns every reserved range as {@code {start, end}} pairs. */
    List<long[]> drain() {
        List<long[]> all = List.copyOf(ranges);
        ranges.clear();
        return all;
    }

    /** Number of separate reserved ranges (for tests). */
    int count() {
        return ranges.size();
    }
}
