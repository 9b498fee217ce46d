package dev.guestmem.host;

/**
 * A page-aligned host range {@code [start, end)}.
 *
 * @param start first address
 * @param end   first address past the range
 */
public record HvaRange(long start, long end) {
    /** Whether {@code hva} lies in the range. */
    public boolean contains(long hva) {
        return Long.compareUnsigned(hva, start) >= 0 && Long.compareUnsigned(hva, end) < 0;
    }
}
