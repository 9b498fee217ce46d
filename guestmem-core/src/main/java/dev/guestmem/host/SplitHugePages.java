package dev.guestmem.host;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The 2 MiB frames of huge-advised memory whose transparent huge page was split by a change to part of
 * it ({@code MADV_DONTNEED} of some of its pages). Linux then maps the frame with 4 KiB page-table entries
 * until a collapse, so KVM, which follows the host mapping level, maps it at 4 KiB too. A frame leaves the
 * set when all of it is dropped, unmapped or collapsed: the next fault may find a whole huge page again.
 *
 * <p>Changed by the address-space writer only; read without locks by the MMU's fault path, which
 * re-checks the invalidation sequence before installing what it decided.
 */
final class SplitHugePages {
    /** A PMD's reach. */
    static final long FRAME_SIZE = 2L << 20;

    private final Set<Long> frames = ConcurrentHashMap.newKeySet();

    /** Whether the frame starting at {@code frame} holds a split huge page. */
    boolean isSplit(long frame) {
        return !frames.isEmpty() && frames.contains(frame);
    }

    /** Records the split of the frame starting at {@code frame}. */
    void split(long frame) {
        frames.add(frame);
    }

    /** Forgets the frames lying wholly inside {@code [start, end)}. */
    void forgetWhole(long start, long end) {
        if (frames.isEmpty()) {
            return;
        }
        long first = (start + FRAME_SIZE - 1) & -FRAME_SIZE;
        long last = end & -FRAME_SIZE;
        if (Long.compareUnsigned(first, last) >= 0) {
            return;
        }
        if ((last - first) / FRAME_SIZE > frames.size()) {
            frames.removeIf(frame -> Long.compareUnsigned(frame, first) >= 0 && Long.compareUnsigned(frame, last) < 0);
        } else {
            for (long frame = first; frame != last; frame += FRAME_SIZE) {
                frames.remove(frame);
            }
        }
    }

    /** Forgets every frame overlapping {@code [start, end)}. */
    void forgetOverlapping(long start, long end) {
        forgetWhole(start & -FRAME_SIZE, (end + FRAME_SIZE - 1) & -FRAME_SIZE);
    }
}
