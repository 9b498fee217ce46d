package dev.guestmem.host;

/** A live host mapping: {@code [start, start + length)}. */
public record MappingInfo(long start, long length) {
    /** First address past the mapping. */
    public long end() {
        return start + length;
    }
}
