package dev.guestmem.host;

/**
 * Subscriber to invalidations of host virtual address ranges, the MMU-notifier contract: for every
 * {@code munmap}, {@code madvise(MADV_DONTNEED)}, {@code mprotect} and host store that breaks
 * copy-on-write of a zero page, {@link #invalidateRangeStart} runs before anything changes and
 * {@link #invalidateRangeEnd} after the change is complete, both with the same half-open range
 * {@code [start, end)}. When start returns the subscriber must no longer use any page of the range (it
 * zaps its mappings and flushes its TLBs).
 */
public interface InvalidationListener {
    void invalidateRangeStart(long start, long end, InvalidationCause cause);

    void invalidateRangeEnd(long start, long end, InvalidationCause cause);
}
