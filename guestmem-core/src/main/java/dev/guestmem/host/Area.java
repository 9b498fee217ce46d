package dev.guestmem.host;

/**
 * One entry of the {@link AreaRegistry}: a page-aligned range {@code [start, end)} of a mapping this
 * process created, with uniform attributes (what Linux calls a VMA). Immutable: a change of protection
 * or advice replaces the area by new ones, which is what lets readers use an area without a lock.
 *
 * @param start        first address (page aligned)
 * @param end          first address past the area (page aligned, greater than {@code start})
 * @param protection   current protection, never more permissive than the real page tables
 * @param hugeAdvised  whether {@code MADV_HUGEPAGE} is in effect
 * @param mmapId       identity of the {@code mmap} call that created the memory; areas of different
 *                     calls are never merged, so {@link HostMemory#mappingAt} can report one mapping
 * @param faultLimit   for a shared file mapping, the first address whose page the file cannot supply
 *                     (past its end, or memory it refuses to host-fault), where the real process would
 *                     take SIGBUS; {@link #ANONYMOUS} for anonymous memory. Absolute, so splitting an
 *                     area keeps it.
 */
record Area(long start, long end, Protection protection, boolean hugeAdvised, long mmapId, long faultLimit) {
    /** {@link #faultLimit()} of anonymous memory: every page exists (all ones, above every address). */
    static final long ANONYMOUS = -1L;

    Area {
        if (Long.compareUnsigned(start, end) >= 0) {
            throw new IllegalArgumentException("empty area [0x" + Long.toHexString(start) + ", 0x"
                    + Long.toHexString(end) + ")");
        }
    }

    /** An area of anonymous memory. */
    Area(long start, long end, Protection protection, boolean hugeAdvised, long mmapId) {
        this(start, end, protection, hugeAdvised, mmapId, ANONYMOUS);
    }

    boolean covers(long hva) {
        return Long.compareUnsigned(hva, start) >= 0 && Long.compareUnsigned(hva, end) < 0;
    }

    /** Whether this is a shared mapping of a file rather than anonymous memory. */
    boolean isFileBacked() {
        return faultLimit != ANONYMOUS;
    }

    /** Whether touching {@code hva} would raise SIGBUS: the file has no page for it. */
    boolean raisesBus(long hva) {
        return Long.compareUnsigned(hva, faultLimit) >= 0;
    }

    Area withRange(long newStart, long newEnd) {
        return new Area(newStart, newEnd, protection, hugeAdvised, mmapId, faultLimit);
    }

    Area withProtection(Protection newProtection) {
        return newProtection == protection ? this
                : new Area(start, end, newProtection, hugeAdvised, mmapId, faultLimit);
    }

    Area withHugeAdvised(boolean newHugeAdvised) {
        return newHugeAdvised == hugeAdvised ? this
                : new Area(start, end, protection, newHugeAdvised, mmapId, faultLimit);
    }

    /** Whether {@code next} directly follows this area and could form one area with it. */
    boolean mergeableWith(Area next) {
        return end == next.start && mmapId == next.mmapId && protection == next.protection
                && hugeAdvised == next.hugeAdvised && faultLimit == next.faultLimit;
    }
}
