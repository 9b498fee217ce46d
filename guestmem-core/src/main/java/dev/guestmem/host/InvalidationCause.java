package dev.guestmem.host;

/** Why a host range is being invalidated (the MMU-notifier event). */
public enum InvalidationCause {
    /** {@code munmap}: the range stops existing. */
    UNMAP,
    /** {@code madvise(MADV_DONTNEED)}: the pages are dropped and read back as zeros. */
    DISCARD,
    /** {@code mprotect}: the range's protection changes. */
    PROTECT,
    /**
     * A first write to a never-written anonymous page: the shared zero page a read mapped there is
     * replaced by a private copy, so every mapping of the old frame must go.
     */
    COPY_ON_WRITE,
    /**
     * A VMA split inside a 2 MiB frame the VMA wholly covers ({@code munmap}, {@code mprotect} or huge-page
     * advice on part of a mapping): the kernel first splits any huge page mapping of the frame, and tells
     * the notifiers about the whole frame whether or not one was mapped.
     */
    VMA_SPLIT
}
