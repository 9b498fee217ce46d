package dev.guestmem.host;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Address ranges that {@link HostMemory} unmapped but keeps reserved ({@code PROT_NONE}) so that nothing
 * else in the process lands there while a memslot may still point at them, and hands out again to later
 * mappings. Not thread-safe: used under the address-space lock.
 */
final class Reservations {
    /** Reserved ranges, start → end (exclusive), never adjacent (neighbours are merged). */
    private final TreeMap<Long, Long> ranges = new TreeMap<>();

    /** Records {@code [start, end)} as reserved, merging it with reserved neighbours. */
    void add(long start, long end) {
        Map.Entry<Long, Long> before = ranges.floorEntry(start);
        if (before != null && before.getValue() >= start) {
            start = before.getKey();
            end = Math.max(end, before.getValue());
            ranges.remove(before.getKey());
        }
        Long after = ranges.get(end);
        if (after != null) {
            ranges.remove(end);
            end = after;
        }
        ranges.put(start, end);
    }

    /**
     * Takes the first {@code length} bytes of the lowest reserved range that is long enough.
     *
     * @return the start of the taken range, or -1 when no reserved range is long enough
     */
    long take(long length) {
        for (Map.Entry<Long, Long> range : ranges.entrySet()) {
            long start = range.getKey();
            long end = range.getValue();
            if (end - start >= length) {
                ranges.remove(start);
                if (end - start > length) {
                    ranges.put(start + length, end);
                }
                return start;
            }
        }
        return -1;
    }

    /** Removes and returns every reserved range as {@code {start, end}} pairs. */
    List<long[]> drain() {
        List<long[]> all = new ArrayList<>();
        ranges.forEach((start, end) -> all.add(new long[] {start, end}));
        ranges.clear();
        return all;
    }

    /** Number of separate reserved ranges (for tests). */
    int count() {
        return ranges.size();
    }
}
