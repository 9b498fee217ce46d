package dev.guestmem.gmem;

/** A half-open range of guest frame numbers {@code [start, end)}, compared as unsigned. */
public record GfnRange(long start, long end) {
    /** Whether the range holds no gfn. */
    public boolean isEmpty() {
        return Long.compareUnsigned(start, end) >= 0;
    }

    /** Whether {@code gfn} lies in the range. */
    public boolean contains(long gfn) {
        return Long.compareUnsigned(gfn, start) >= 0 && Long.compareUnsigned(gfn, end) < 0;
    }

    @Override
    public String toString() {
        return "[0x" + Long.toHexString(start) + ", 0x" + Long.toHexString(end) + ")";
    }
}
