package dev.guestmem.gmem;

import static dev.guestmem.memslot.KvmLimits.PAGE_SHIFT;
import static dev.guestmem.memslot.KvmLimits.PAGE_SIZE;

import dev.guestmem.Errno;
import dev.guestmem.memslot.Memslot;
import java.util.Map;
import java.util.TreeMap;

/**
 * A guest_memfd file: a fixed-size file owned by one VM, and the index of which memslot each of its
 * pages is bound to (spec §5.1, §5.3, §5.4). At most one slot per page; different slots may bind
 * disjoint ranges of one file.
 */
public final class GuestMemfd {
    /** {@code GUEST_MEMFD_FLAG_MMAP}: the host may mmap the file. */
    public static final long FLAG_MMAP = 1;
    /** {@code GUEST_MEMFD_FLAG_INIT_SHARED}: memory starts shared (host-faultable). */
    public static final long FLAG_INIT_SHARED = 1 << 1;

    private final Object owner;
    private final long size;
    private final long flags;
    /** Bound ranges keyed by first page index; each value covers {@code [pgoff, pgoff + npages)}. */
    private final TreeMap<Long, Memslot> bindings = new TreeMap<>();

    /**
     * @param owner the VM that created the file; only it may bind slots to it
     * @param size  the file size in bytes, page aligned and positive (validated by the caller)
     */
    public GuestMemfd(Object owner, long size, long flags) {
        this.owner = owner;
        this.size = size;
        this.flags = flags;
    }

    public Object owner() {
        return owner;
    }

    public long size() {
        return size;
    }

    public long flags() {
        return flags;
    }

    /** Whether the host may map the file, which also makes bound slots gmem-only (spec §5.4 step 5). */
    public boolean mmapAllowed() {
        return (flags & FLAG_MMAP) != 0;
    }

    /**
     * Checks that {@code npages} pages at byte {@code offset} fit in the file: {@code offset} aligned and
     * non-negative, and the end inside the file without wrapping (the fixed, unsigned form of the rule,
     * spec §5.4 step 3). Returns 0 or {@code EINVAL}.
     */
    public int checkRange(long offset, long npages) {
        long bytes = npages << PAGE_SHIFT;
        long end = offset + bytes;
        if (offset < 0 || (offset & (PAGE_SIZE - 1)) != 0 || Long.compareUnsigned(end, offset) < 0
                || Long.compareUnsigned(end, size) > 0) {
            return Errno.EINVAL;
        }
        return 0;
    }

    /**
     * Binds {@code slot} to its pages {@code [pgoff, pgoff + npages)}; {@code EINVAL} if any of them is
     * already bound (spec §5.4 step 4; a later kernel says {@code EEXIST}, this models 6.18).
     */
    public synchronized int bind(Memslot slot) {
        long start = slot.gmem().pgoff();
        long end = start + slot.npages();
        Map.Entry<Long, Memslot> below = bindings.lowerEntry(end);
        if (below != null && below.getKey() + below.getValue().npages() > start) {
            return Errno.EINVAL;
        }
        bindings.put(start, slot);
        return 0;
    }

    /** Removes {@code slot}'s binding, if it is still the one recorded for its range. */
    public synchronized void unbind(Memslot slot) {
        bindings.remove(slot.gmem().pgoff(), slot);
    }

    /** The slot bound at page index {@code pgoff}, or {@code null}. */
    public synchronized Memslot slotAt(long pgoff) {
        Map.Entry<Long, Memslot> e = bindings.floorEntry(pgoff);
        return e != null && pgoff < e.getKey() + e.getValue().npages() ? e.getValue() : null;
    }
}
