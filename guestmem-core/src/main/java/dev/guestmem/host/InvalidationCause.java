package dev.guestmem.host;

/** Why a host range is being invalidated (the MMU-notifier event). */
public enum InvalidationCause {
    /** {@code munmap}: the range stops existing. */
    UNMAP,
    /** {@code madvise(MADV_DONTNEED)}: the pages are dropped and read back as zeros. */
    DISCARD,
    /** {@code mprotect}: the range's protection changes. */
    PROTECT,
    /** {@code madvise(MADV_COLLAPSE)}: the small pages are replaced by a huge page holding the same data. */
    COLLAPSE,
    /**
     * A change to part of a transparent huge page ({@code MADV_DONTNEED} of some of its pages) splits it
     * first: the whole 2 MiB frame is announced, inside the change's own invalidation.
     */
    HUGE_PAGE_SPLIT
}
