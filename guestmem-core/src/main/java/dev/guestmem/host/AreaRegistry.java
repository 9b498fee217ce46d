package dev.guestmem.host;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * The areas of host memory this process created: the source of truth for which addresses may be
 * touched and how.
 *
 * <p>The registry is an immutable {@link AreaTree} published through one volatile field. Readers
 * ({@link #find}) read the field once and search that snapshot: no lock, no retry, O(log n), no
 * allocation. Every other method is for the single writer (the caller holds {@link HostMemory}'s
 * address-space lock): it builds the next tree from the current one and publishes it with one volatile
 * write, so a reader sees the registry entirely before or entirely after an update (a split, removal
 * and re-merge of areas included), never partway. (A concurrent skip list with per-entry replacement
 * would not do: its floor lookup picks a node and reads its value at different moments, so a reader can
 * meet an area already shrunk by the writer before the piece that now covers its address is visible.)
 */
final class AreaRegistry {
    private volatile AreaTree published = AreaTree.EMPTY;

    /** The area covering {@code hva}, or null. Lock-free; safe for any thread. */
    Area find(long hva) {
        return covering(published, hva);
    }

    private static Area covering(AreaTree tree, long hva) {
        if (hva < 0) {
            return null;
        }
        Area area = tree.floor(hva);
        return area != null && area.covers(hva) ? area : null;
    }

    /**
     * The contiguous run of areas of the same mapping ({@link Area#mmapId()}) around {@code hva}, as
     * {@code {start, end}}, or null if {@code hva} is not covered. Lock-free, on one snapshot.
     */
    long[] mappingExtent(long hva) {
        AreaTree tree = published;
        Area area = covering(tree, hva);
        if (area == null) {
            return null;
        }
        long start = area.start();
        for (Area left = covering(tree, start - 1); left != null && left.mmapId() == area.mmapId();
                left = covering(tree, start - 1)) {
            start = left.start();
        }
        long end = area.end();
        for (Area right = covering(tree, end); right != null && right.mmapId() == area.mmapId();
                right = covering(tree, end)) {
            end = right.end();
        }
        return new long[] {start, end};
    }

    /** Whether every address of the non-empty {@code [start, end)} is covered by huge-advised areas. */
    boolean allHugeAdvised(long start, long end) {
        return everyArea(start, end, Area::hugeAdvised);
    }

    /** Whether some area of the covered {@code [start, end)} is a file mapping. */
    boolean anyFileBacked(long start, long end) {
        return !everyArea(start, end, area -> !area.isFileBacked());
    }

    /** Whether every address of {@code [start, end)} is covered by an area passing {@code test}. */
    private boolean everyArea(long start, long end, Predicate<Area> test) {
        AreaTree tree = published;
        for (long cursor = start; Long.compareUnsigned(cursor, end) < 0; ) {
            Area area = covering(tree, cursor);
            if (area == null || !test.test(area)) {
                return false;
            }
            cursor = area.end();
        }
        return true;
    }

    /** Whether no area exists. */
    boolean isEmpty() {
        return published.isEmpty();
    }

    /** Number of areas (tests and diagnostics). */
    int size() {
        return published.size();
    }

    /** Every area, ascending. */
    List<Area> all() {
        return published.toList();
    }

    /** Adds an area over addresses no area covers (writer only). */
    void insert(Area area) {
        published = withArea(published, area);
    }

    /** Adds areas over addresses no area covers, published together (writer only). */
    void insertAll(List<Area> added) {
        AreaTree tree = published;
        for (Area area : added) {
            tree = withArea(tree, area);
        }
        published = tree;
    }

    private static AreaTree withArea(AreaTree tree, Area area) {
        Area below = tree.floor(area.end() - 1);
        if (below != null && Long.compareUnsigned(below.end(), area.start()) > 0) {
            throw new IllegalStateException("new area " + area + " overlaps " + below);
        }
        return tree.put(area);
    }

    /**
     * The maximal runs of contiguous covered addresses inside {@code [start, end)}, clipped to it, in
     * ascending order, each as {@code {runStart, runEnd}} (writer only).
     */
    List<long[]> coveredRuns(long start, long end) {
        return runs(start, end, area -> true);
    }

    /**
     * The maximal runs of contiguous addresses inside {@code [start, end)} covered by areas that
     * {@code wanted} accepts, clipped to the range, in ascending order, each as {@code {runStart, runEnd}}
     * (writer only).
     */
    List<long[]> runs(long start, long end, Predicate<Area> wanted) {
        List<long[]> runs = new ArrayList<>();
        for (Area area : overlapping(published, start, end)) {
            if (!wanted.test(area)) {
                continue;
            }
            // hvas are below 2^47, so signed max/min are the unsigned ones.
            long partStart = Math.max(area.start(), start);
            long partEnd = Math.min(area.end(), end);
            long[] last = runs.isEmpty() ? null : runs.getLast();
            if (last != null && last[1] == partStart) {
                last[1] = partEnd;
            } else {
                runs.add(new long[] {partStart, partEnd});
            }
        }
        return runs;
    }

    /**
     * The first address at or after {@code start} that no area covers, capped at {@code end}
     * ({@code start} itself if it is not covered).
     */
    long coveredPrefixEnd(long start, long end) {
        AreaTree tree = published;
        long cursor = start;
        while (Long.compareUnsigned(cursor, end) < 0) {
            Area area = covering(tree, cursor);
            if (area == null) {
                return cursor;
            }
            cursor = area.end();
        }
        return end;
    }

    /**
     * Applies {@code change} to the part of every area inside {@code [start, end)} and publishes the
     * result at once (writer only). The operator receives the part as an area of its own and returns it
     * unchanged (equal), with new attributes, or null to remove it. Areas the range cuts are split;
     * afterwards adjacent parts of the same mapping with equal attributes are merged again, so repeated
     * changes do not fragment the registry.
     *
     * @return whether any part changed
     */
    boolean update(long start, long end, UnaryOperator<Area> change) {
        AreaTree tree = published;
        boolean changed = false;
        for (Area area : overlapping(tree, start, end)) {
            long partStart = Math.max(area.start(), start);
            long partEnd = Math.min(area.end(), end);
            Area part = area.withRange(partStart, partEnd);
            Area replacement = change.apply(part);
            if (part.equals(replacement)) {
                continue;
            }
            if (replacement != null && (replacement.start() != partStart || replacement.end() != partEnd)) {
                throw new IllegalArgumentException("a change may not move an area: " + part + " -> " + replacement);
            }
            changed = true;
            tree = tree.remove(area.start());
            if (partStart != area.start()) {
                tree = tree.put(area.withRange(area.start(), partStart));
            }
            if (replacement != null) {
                tree = tree.put(replacement);
            }
            if (partEnd != area.end()) {
                tree = tree.put(area.withRange(partEnd, area.end()));
            }
        }
        if (changed) {
            published = coalesce(tree, start, end);
        }
        return changed;
    }

    private static List<Area> overlapping(AreaTree tree, long start, long end) {
        List<Area> result = new ArrayList<>();
        Area area = covering(tree, start);
        if (area == null) {
            area = tree.higher(start);
        }
        while (area != null && Long.compareUnsigned(area.start(), end) < 0) {
            result.add(area);
            area = tree.higher(area.start());
        }
        return result;
    }

    /** Merges mergeable neighbours among the areas touching {@code [start, end]}. */
    private static AreaTree coalesce(AreaTree tree, long start, long end) {
        Area lower = tree.lower(start);
        if (lower == null) {
            lower = tree.higher(start - 1);
        }
        while (lower != null) {
            Area upper = tree.higher(lower.start());
            if (upper == null || Long.compareUnsigned(upper.start(), end) > 0) {
                break;
            }
            if (lower.mergeableWith(upper)) {
                Area merged = lower.withRange(lower.start(), upper.end());
                tree = tree.remove(upper.start()).put(merged);
                lower = merged;
            } else {
                lower = upper;
            }
        }
        return tree;
    }
}
