package dev.guestmem.mmu;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Kind-A write tracking ({@code gfn_write_track}, mmu.md §3.6): gfns whose every guest write must trap,
 * with a counter per gfn. While a gfn is tracked a fault never makes its SPTE writable, no huge leaf may
 * cover it, and a write to it is emulated. Keyed by gfn rather than by slot and offset: trackers are the
 * MMU's own tests here, not shadow paging, and they remove their tracking before changing the slot.
 */
final class WriteTracking {
    private final ConcurrentHashMap<Long, Integer> counts = new ConcurrentHashMap<>();
    /** Tracked gfns per 2 MiB frame: {@code disallow_lpage} for the tracking reason. */
    private final ConcurrentHashMap<Long, Integer> frames = new ConcurrentHashMap<>();

    boolean isEmpty() {
        return counts.isEmpty();
    }

    boolean isTracked(long gfn) {
        return !counts.isEmpty() && counts.containsKey(gfn);
    }

    /** Whether a tracked gfn lies in the 2 MiB frame starting at {@code frameGfn}. */
    boolean disallowsHuge(long frameGfn) {
        return !frames.isEmpty() && frames.containsKey(frameGfn);
    }

    void add(long gfn) {
        counts.merge(gfn, 1, Integer::sum);
        frames.merge(PageLevel.round(gfn, PageLevel.PG_2M), 1, Integer::sum);
    }

    /** Returns false if {@code gfn} was not tracked. Called with the MMU lock held for write, like {@link #add}. */
    boolean remove(long gfn) {
        boolean[] found = new boolean[1];
        counts.computeIfPresent(gfn, (k, n) -> {
            found[0] = true;
            return n == 1 ? null : n - 1;
        });
        if (found[0]) {
            frames.computeIfPresent(PageLevel.round(gfn, PageLevel.PG_2M), (k, n) -> n == 1 ? null : n - 1);
        }
        return found[0];
    }
}
