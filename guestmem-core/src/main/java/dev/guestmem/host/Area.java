package dev.guestmem.host;

/**
 * One entry of the {@link AreaRegistry}: a page-aligned range {@code [start, end)} of a mapping this
 * process created, with uniform attributes (what Linux calls a VMA). Immutable: a change of protection
 * or advice replaces the area by new ones, which is what lets readers use an area without a lock.
 *
 * @param start        first address (page aligned)
 * @param end          first address past the area (page aligned, greater than {@code start})
 * @param protection   current protection, never more permissive than the real page tables
 * @param hugeAdvised  whether {@code MADV_HUGEPAGE} is in effect ({@code VM_HUGEPAGE})
 * @param mmapId       identity of the {@code mmap} call that created the memory; areas of different
 *                     calls are never merged, so {@link HostMemory#mappingAt} can report one mapping
 * @param faultLimit   for a shared file mapping, the first address whose page the file cannot supply
 *                     (past its end, or memory it refuses to host-fault), where the real process would
 *                     take SIGBUS; {@link #ANONYMOUS} for anonymous memory. Absolute, so splitting an
 *                     area keeps it.
 * @param noHugeAdvised whether {@code MADV_NOHUGEPAGE} is in effect ({@code VM_NOHUGEPAGE}): a third state
 *                     beside the default and {@code MADV_HUGEPAGE}, so advising it again changes nothing
 */
record Area(long start, long end, Protection protection, boolean hugeAdvised, long mmapId, long faultLimit,
        boolean noHugeAdvised) {
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

    /** An area without {@code MADV_NOHUGEPAGE}. */
    Area(long start, long end, Protection protection, boolean hugeAdvised, long mmapId, long faultLimit) {
        this(start, end, protection, hugeAdvised, mmapId, faultLimit, false);
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
        return new Area(newStart, newEnd, protection, hugeAdvised, mmapId, faultLimit, noHugeAdvised);
    }

    Area withProtection(Protection newProtection) {
        return newProtection == protection ? this
                : new Area(start, end, newProtection, hugeAdvised, mmapId, faultLimit, noHugeAdvised);
    }

    /** The area after {@code MADV_HUGEPAGE} ({@code huge}) or {@code MADV_NOHUGEPAGE}. */
    Area withHugeAdvised(boolean huge) {
        return huge == hugeAdvised && huge != noHugeAdvised ? this
                : new Area(start, end, protection, huge, mmapId, faultLimit, !huge);
    }

    /** Whether {@code MADV_HUGEPAGE} ({@code huge}) or {@code MADV_NOHUGEPAGE} would change this area's flags. */
    boolean changedByHugeAdvice(boolean huge) {
        return huge ? !hugeAdvised : !noHugeAdvised;
    }

    /** Whether {@code next} directly follows this area and could form one area with it. */
    boolean mergeableWith(Area next) {
        return end == next.start && mmapId == next.mmapId && protection == next.protection
                && hugeAdvised == next.hugeAdvised && faultLimit == next.faultLimit
                && noHugeAdvised == next.noHugeAdvised;
    }
}
