package dev.guestmem.vcpu;

import java.util.Arrays;

/**
 * A vCPU's software TLB: direct-mapped, one 4 KiB translation per entry (a huge leaf is cached one
 * 4 KiB piece at a time, as real TLBs may splinter it). An entry vouches that the host page at
 * {@link #hostPage} may be read for the gfn in {@link #readTag}, and written if the gfn is also in
 * {@link #writeTag} — set only when the SPTE it was filled from was writable <em>and</em> dirty, so the
 * first store through a clean entry goes back to the SPTE for the hardware D-bit assist.
 *
 * <p>Owned by the vCPU's thread; other threads only read it for invariant checks.
 */
final class Tlb {
    static final int SIZE = 512;
    static final int MASK = SIZE - 1;
    static final long NONE = -1L;

    final long[] readTag = new long[SIZE];
    final long[] writeTag = new long[SIZE];
    final long[] hostPage = new long[SIZE];
    final byte[] level = new byte[SIZE];

    Tlb() {
        flush();
    }

    static int slot(long gfn) {
        return (int) gfn & MASK;
    }

    void fill(long gfn, long host, boolean writable, int leafLevel) {
        int i = slot(gfn);
        hostPage[i] = host;
        level[i] = (byte) leafLevel;
        writeTag[i] = writable ? gfn : NONE;
        readTag[i] = gfn;
    }

    void flush() {
        Arrays.fill(readTag, NONE);
        Arrays.fill(writeTag, NONE);
    }

    /** Whether an entry maps a host page in {@code [start, end)} (for invariant checks; racy by nature). */
    boolean mapsHostRange(long start, long end, boolean writableOnly) {
        for (int i = 0; i < SIZE; i++) {
            long tag = writableOnly ? writeTag[i] : readTag[i];
            long host = hostPage[i];
            if (tag != NONE && host >= start && host < end) {
                return true;
            }
        }
        return false;
    }

    /** Whether an entry for {@code gfn} allows stores. */
    boolean writable(long gfn) {
        return writeTag[slot(gfn)] == gfn;
    }

    /** Whether a writable entry comes from a leaf above 4 KiB. */
    boolean hasWritableHuge() {
        for (int i = 0; i < SIZE; i++) {
            if (writeTag[i] != NONE && level[i] > 1) {
                return true;
            }
        }
        return false;
    }
}
