package dev.guestmem.host;

/**
 * Subscriber to invalidations of host virtual address ranges, the MMU-notifier contract: for every
 * {@code munmap}, {@code madvise(MADV_DONTNEED)} and {@code mprotect}, {@link #invalidateRangeStart}
 * runs before the system call changes anything and {@link #invalidateRangeEnd} after it has returned,
 * both with the same half-open range {@code [start, end)}. When start returns the subscriber must no
 * longer use any page of the range (it zaps its mappings and flushes its TLBs).
 */
public interface InvalidationListener {
    void invalidateRangeStart(long start, long end, InvalidationCause cause);

    void invalidateRangeEnd(long start, long end, InvalidationCause cause);
}
