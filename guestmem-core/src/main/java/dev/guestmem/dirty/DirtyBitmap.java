package dev.guestmem.dirty;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

/**
 * A memslot's dirty bitmap as {@code kvm_alloc_dirty_bitmap} lays it out (spec §4.1): one allocation of
 * twice {@code ALIGN(npages, 64) / 8} bytes, the first half the live bitmap that {@code mark_page_dirty}
 * sets bits in, the second half a scratch buffer that GET (legacy mode) and CLEAR stage userspace's copy
 * in. Page {@code i} of the slot is bit {@code i % 64} of 64-bit word {@code i / 64} (little-endian bit
 * numbering, the layout userspace buffers use too); bits at or past {@code npages} are never set.
 *
 * <p>Live words change only atomically: a bit is set with an atomic OR, a word is reaped with an exchange
 * (GET) or an atomic AND-NOT (CLEAR), so a bit set concurrently by a vCPU is either reaped or stays set,
 * never lost. The scratch half belongs to whoever holds the slots lock, and is all zeros between two
 * such users (each zeroes what it wrote), which spares a GET from zeroing all of it first.
 */
public final class DirtyBitmap {
    /** {@code BITS_PER_LONG}. */
    public static final int BITS_PER_WORD = 64;

    private static final VarHandle WORDS = MethodHandles.arrayElementVarHandle(long[].class);
    /** Words compared at once against {@link #ZEROS} when looking for dirty words. */
    private static final int SCAN_CHUNK = 512;
    private static final MemorySegment ZEROS = MemorySegment.ofArray(new long[SCAN_CHUNK]);

    private final long npages;
    private final int words;
    /** {@code [0, words)}: live; {@code [words, 2 * words)}: scratch. */
    private final long[] bits;
    /** {@link #bits} as a segment, for vectorized scans of the live half. */
    private final MemorySegment segment;

    private DirtyBitmap(long npages) {
        if (npages <= 0) {
            throw new IllegalArgumentException("a dirty bitmap covers at least one page: " + npages);
        }
        this.npages = npages;
        this.words = Math.toIntExact(wordsFor(npages));
        this.bits = new long[2 * words];
        this.segment = MemorySegment.ofArray(bits);
    }

    /** A zeroed bitmap for a slot of {@code npages} pages ({@code __vcalloc(2, dirty_bytes)}). */
    public static DirtyBitmap allocate(long npages) {
        return new DirtyBitmap(npages);
    }

    /** {@code ALIGN(npages, 64) / 64}: the 64-bit words of one half. */
    public static long wordsFor(long npages) {
        return (npages + BITS_PER_WORD - 1) >>> 6;
    }

    /** The pages the bitmap covers. */
    public long npages() {
        return npages;
    }

    /** Words in one half. */
    public int words() {
        return words;
    }

    // ---------------------------------------------------------------------------------------------
    // Live half

    /**
     * {@code set_bit_le(rel, bitmap)}: marks page {@code rel} dirty. A bit already set is left alone
     * without a write, so re-dirtying a dirty page does not bounce the cache line between vCPUs.
     */
    public void markDirty(long rel) {
        if (Long.compareUnsigned(rel, npages) >= 0) {
            throw new IndexOutOfBoundsException("page " + rel + " of a " + npages + "-page slot");
        }
        int word = (int) (rel >>> 6);
        long bit = 1L << rel; // shifts use the low 6 bits: bit rel % 64
        if (((long) WORDS.getAcquire(bits, word) & bit) == 0) {
            WORDS.getAndBitwiseOr(bits, word, bit);
        }
    }

    /** {@code KVM_DIRTY_LOG_INITIALLY_SET}: sets bits {@code 0 .. npages-1} of a fresh bitmap. */
    void setAll() {
        Arrays.fill(bits, 0, words, -1L);
        int tail = (int) (npages & (BITS_PER_WORD - 1));
        if (tail != 0) {
            bits[words - 1] = (1L << tail) - 1;
        }
        VarHandle.releaseFence(); // published with the slot; the fence keeps the stores ahead of it
    }

    /** Whether page {@code rel} is marked dirty. */
    public boolean isDirty(long rel) {
        return Long.compareUnsigned(rel, npages) < 0 && (liveWord((int) (rel >>> 6)) & (1L << rel)) != 0;
    }

    /** Live word {@code i}, read with acquire semantics. */
    long liveWord(int i) {
        return (long) WORDS.getAcquire(bits, i);
    }

    /** Atomically replaces live word {@code i} with 0 and returns what it held ({@code xchg}). */
    long takeWord(int i) {
        return (long) WORDS.getAndSet(bits, i, 0L);
    }

    /**
     * Atomically clears the bits of {@code mask} in live word {@code i} and returns those of them that were
     * set ({@code mask & fetch_andnot(word, mask)}, spec §4.4 step 9).
     */
    long clearWord(int i, long mask) {
        return mask & (long) WORDS.getAndBitwiseAnd(bits, i, ~mask);
    }

    /**
     * Copies the first {@code count} live words into {@code dst}. Plain reads, like {@code copy_to_user}:
     * a bit set during the copy may or may not be in it, and stays set in the bitmap either way.
     */
    void copyLive(long[] dst, int count) {
        System.arraycopy(bits, 0, dst, 0, count);
    }

    /**
     * Index of the first non-zero live word at or after {@code from}, or {@link #words()} if none. Plain
     * reads, compared {@value #SCAN_CHUNK} words at a time against zeros (a vectorized mismatch): the
     * caller takes a candidate with an atomic exchange before acting on it, and a bit set after the scan
     * passed its word simply stays for the next GET.
     */
    int nextNonZeroLive(int from) {
        for (int i = from; i < words; i += SCAN_CHUNK) {
            int n = Math.min(SCAN_CHUNK, words - i);
            long at = MemorySegment.mismatch(segment, (long) i * Long.BYTES, (long) (i + n) * Long.BYTES, ZEROS, 0,
                    (long) n * Long.BYTES);
            if (at >= 0) {
                return i + (int) (at / Long.BYTES);
            }
        }
        return words;
    }

    // ---------------------------------------------------------------------------------------------
    // Scratch half (slots lock held)

    /** Zeroes scratch words {@code [from, from + count)}. */
    void clearScratch(int from, int count) {
        Arrays.fill(bits, words + from, words + from + count, 0L);
    }

    /** Stores {@code value} in scratch word {@code i}. */
    void setScratch(int i, long value) {
        bits[words + i] = value;
    }

    /** Scratch word {@code i}. */
    long scratch(int i) {
        return bits[words + i];
    }

    /** Copies the first {@code count} scratch words into {@code dst}. */
    void copyScratch(long[] dst, int count) {
        System.arraycopy(bits, words, dst, 0, count);
    }

    /**
     * The same as {@link #copyScratch} when only the words {@code nonZero} may be non-zero (the scratch half
     * is zero between users): zeros, then those words — one pass over {@code dst} instead of two.
     */
    void copyScratch(long[] dst, int count, int[] nonZero) {
        Arrays.fill(dst, 0, count, 0L);
        for (int i : nonZero) {
            if (i < count) {
                dst[i] = bits[words + i];
            }
        }
    }

    /** Loads {@code count} words of {@code src} into the scratch half from word {@code at} on. */
    void loadScratch(long[] src, int at, int count) {
        System.arraycopy(src, 0, bits, words + at, count);
    }

    @Override
    public String toString() {
        return "DirtyBitmap[" + npages + " pages]";
    }
}
