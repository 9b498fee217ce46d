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
     * A first write to a never-written anonymous page: the shared zero page a read mapped there is
     * replaced by a private copy, so every mapping of the old frame must go.
     */
    COPY_ON_WRITE,
    /**
     * The split of a 2 MiB frame's huge page mapping ({@code __split_huge_pmd}), which announces the whole
     * frame: before a VMA split inside a frame the VMA wholly covers ({@code munmap}, {@code mprotect} or
     * huge-page advice on part of a mapping), whether or not a huge page is mapped there; and inside a
     * discard ({@code MADV_DONTNEED}) of part of a frame that holds one.
     */
    HUGE_PAGE_SPLIT
}
