package dev.guestmem.host;

/**
 * A page-aligned host range {@code [start, end)}.
 *
 * @param start first address
 * @param end   first address past the range
 */
public record HvaRange(long start, long end) {
}
