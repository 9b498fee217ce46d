package dev.guestmem.gmem;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A sparse map from 64-bit indexes to values, stored as ranges: what the kernel keeps in an xarray with
 * {@code xa_store_range} (guest_memfd bindings, spec §5.3) or per index (memory attributes, §5.7). Every
 * index maps to at most one value; runs of indexes with equal values are one entry, so a binding of a
 * million pages or an attribute over a whole slot costs one entry.
 *
 * <p>Indexes are unsigned: {@code [start, end)} with {@code end} up to all ones (so {@code [0, ~0)}, the
 * range a guest_memfd release invalidates, is a range like any other).
 *
 * <p>Readers never lock: the entries are an immutable snapshot behind one volatile field, so a lookup
 * sees the map entirely before or after a store, never halfway through one (a store that splits or
 * merges ranges included). Lookups are O(log n) in the number of ranges; a store copies the snapshot
 * (O(n)), which suits maps written rarely (bind, unbind, attribute changes) and read on every fault.
 * Writers are serialized by this object.
 *
 * @param <V> the value type; {@link Object#equals} decides which neighbours merge
 */
final class SparseRangeMap<V> {
    /** One entry: every index of {@code [start, end)} maps to {@code value}. */
    record Range<V>(long start, long end, V value) {
        Range {
            Objects.requireNonNull(value, "value");
            if (Long.compareUnsigned(start, end) >= 0) {
                throw new IllegalArgumentException("empty range [" + Long.toUnsignedString(start) + ", "
                        + Long.toUnsignedString(end) + ")");
            }
        }

        /** Number of indexes covered (as unsigned). */
        long length() {
            return end - start;
        }
    }

    private volatile TreeMap<Long, Range<V>> snapshot = new TreeMap<>(Long::compareUnsigned);

    /** The value at {@code index}, or {@code null} ({@code xa_load}). */
    V get(long index) {
        Map.Entry<Long, Range<V>> entry = snapshot.floorEntry(index);
        return entry != null && Long.compareUnsigned(index, entry.getValue().end()) < 0 ? entry.getValue().value()
                : null;
    }

    /** Whether any index of {@code [start, end)} has a value ({@code xa_find} over the range). */
    boolean anyIn(long start, long end) {
        return firstIn(snapshot, start, end) != null;
    }

    /**
     * The entries intersecting {@code [start, end)}, in index order, unclipped (each as stored), from one
     * snapshot.
     */
    List<Range<V>> intersecting(long start, long end) {
        return Collections.unmodifiableList(intersectingIn(snapshot, start, end));
    }

    /**
     * Whether every index of {@code [start, end)} maps to {@code value}, or has no value when
     * {@code value} is {@code null}. True for an empty range.
     */
    boolean isUniform(long start, long end, V value) {
        if (Long.compareUnsigned(start, end) >= 0) {
            return true;
        }
        TreeMap<Long, Range<V>> map = snapshot;
        if (value == null) {
            return firstIn(map, start, end) == null;
        }
        long cursor = start;
        while (Long.compareUnsigned(cursor, end) < 0) {
            Map.Entry<Long, Range<V>> entry = map.floorEntry(cursor);
            if (entry == null || Long.compareUnsigned(cursor, entry.getValue().end()) >= 0
                    || !entry.getValue().value().equals(value)) {
                return false;
            }
            cursor = entry.getValue().end();
        }
        return true;
    }

    /** Every entry, in index order. */
    List<Range<V>> all() {
        return List.copyOf(snapshot.values());
    }

    /** Number of stored ranges (after merging). */
    int rangeCount() {
        return snapshot.size();
    }

    boolean isEmpty() {
        return snapshot.isEmpty();
    }

    /**
     * Maps every index of {@code [start, end)} to {@code value}, or erases them when {@code value} is
     * {@code null} ({@code xa_store_range} / {@code xa_erase}); ranges cut by the edges keep their outer
     * parts, and equal neighbours merge. An empty range changes nothing.
     */
    synchronized void store(long start, long end, V value) {
        if (Long.compareUnsigned(start, end) >= 0) {
            return;
        }
        TreeMap<Long, Range<V>> next = new TreeMap<>(snapshot);
        for (Range<V> r : intersectingIn(next, start, end)) {
            next.remove(r.start());
            if (Long.compareUnsigned(r.start(), start) < 0) {
                next.put(r.start(), new Range<>(r.start(), start, r.value()));
            }
            if (Long.compareUnsigned(end, r.end()) < 0) {
                next.put(end, new Range<>(end, r.end(), r.value()));
            }
        }
        if (value != null) {
            long newStart = start;
            long newEnd = end;
            Map.Entry<Long, Range<V>> below = next.lowerEntry(start);
            if (below != null && below.getValue().end() == start && below.getValue().value().equals(value)) {
                newStart = below.getKey();
                next.remove(newStart);
            }
            Range<V> above = next.get(end);
            if (above != null && above.value().equals(value)) {
                newEnd = above.end();
                next.remove(end);
            }
            next.put(newStart, new Range<>(newStart, newEnd, value));
        }
        snapshot = next;
    }

    private static <V> List<Range<V>> intersectingIn(TreeMap<Long, Range<V>> map, long start, long end) {
        Range<V> first = firstIn(map, start, end);
        if (first == null) {
            return List.of();
        }
        List<Range<V>> result = new ArrayList<>();
        for (Range<V> r : map.tailMap(first.start(), true).values()) {
            if (Long.compareUnsigned(r.start(), end) >= 0) {
                break;
            }
            result.add(r);
        }
        return result;
    }

    /** The first entry intersecting {@code [start, end)} in {@code map}, or null. */
    private static <V> Range<V> firstIn(TreeMap<Long, Range<V>> map, long start, long end) {
        if (Long.compareUnsigned(start, end) >= 0) {
            return null;
        }
        Map.Entry<Long, Range<V>> below = map.floorEntry(start);
        if (below != null && Long.compareUnsigned(start, below.getValue().end()) < 0) {
            return below.getValue();
        }
        Map.Entry<Long, Range<V>> above = map.higherEntry(start);
        return above != null && Long.compareUnsigned(above.getKey(), end) < 0 ? above.getValue() : null;
    }
}
