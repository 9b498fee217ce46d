package dev.guestmem.dirty;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One vCPU's dirty ring (spec §4.6): a power-of-two array of {@link DirtyGfn} entries shared by KVM and
 * userspace, as the {@code mmap}ed ring pages are. KVM pushes at its free-running {@code dirty_index}
 * and frees harvested entries at {@code reset_index}; userspace reads entries in ring order and marks
 * each harvested ({@link #markHarvested}). An entry's state lives in its flags: {@code 00} free →
 * (push) {@code 01} dirty → (harvest) {@code 1X} → (reset) {@code 00}.
 *
 * <p>Layout of entry {@code i}: word {@code 2i} is the little-endian first half of the struct, flags in
 * the low 32 bits and the slot word in the high 32; word {@code 2i+1} is the offset. Flags are published
 * with release stores and read with acquire loads on both sides, so whoever sees a flag also sees the
 * slot and offset written before it ({@code KVM_CAP_DIRTY_LOG_RING_ACQ_REL} semantics).
 *
 * <p>{@link #push} runs only on the owning vCPU's thread; {@link #reset} only under the slots lock.
 */
public final class DirtyRing {
    /** {@code KVM_DIRTY_RING_RSVD_ENTRIES}: room kept for pushes after the soft limit (no PML here). */
    public static final int RESERVED_ENTRIES = 64;
    /** {@code KVM_DIRTY_RING_MAX_ENTRIES}. */
    public static final int MAX_ENTRIES = 65536;

    private static final VarHandle WORDS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final long FLAGS_MASK = 0xFFFF_FFFFL;

    private final int entries;
    private final int softLimit;
    private final long[] words;
    /** {@code dirty_index}: u32, free-running; written by the vCPU thread. */
    private volatile int dirtyIndex;
    /** {@code reset_index}: u32, free-running; written under the slots lock. */
    private volatile int resetIndex;
    /** Pushes into a completely full ring (the kernel WARNs and overwrites the oldest entry). */
    private volatile long overflows;

    /** A ring of {@code entries} entries (a power of two, more than {@link #RESERVED_ENTRIES}). */
    DirtyRing(int entries) {
        if (Integer.bitCount(entries) != 1 || entries <= RESERVED_ENTRIES || entries > MAX_ENTRIES) {
            throw new IllegalArgumentException("bad dirty ring size: " + entries + " entries");
        }
        this.entries = entries;
        this.softLimit = entries - RESERVED_ENTRIES;
        this.words = new long[2 * entries];
    }

    /** Number of entries. */
    public int entries() {
        return entries;
    }

    /** {@code soft_limit}: from this many used entries on, the vCPU exits with {@code DIRTY_RING_FULL}. */
    public int softLimit() {
        return softLimit;
    }

    /** Entries pushed and not yet reset ({@code dirty_index - reset_index}, u32 arithmetic). */
    public int used() {
        return dirtyIndex - resetIndex;
    }

    /** {@code kvm_dirty_ring_soft_full}. */
    public boolean softFull() {
        return used() >= softLimit;
    }

    /** Pushes that found the ring completely full (must stay 0; the soft-full exit prevents them). */
    public long overflows() {
        return overflows;
    }

    // ---------------------------------------------------------------------------------------------
    // KVM side

    /**
     * {@code kvm_dirty_ring_push}: writes slot and offset, then publishes the DIRTY flag, then advances
     * {@code dirty_index}. Returns whether the ring is now soft-full (the caller raises
     * {@code KVM_REQ_DIRTY_RING_SOFT_FULL} on the vCPU).
     */
    boolean push(int slot, long offset) {
        int index = dirtyIndex;
        if (index - resetIndex >= entries) {
            overflows++; // WARN_ON_ONCE(kvm_dirty_ring_full): only the owning thread pushes
        }
        int e = 2 * (index & (entries - 1));
        WORDS.setOpaque(words, e + 1, offset);
        WORDS.setRelease(words, e, (long) slot << 32 | DirtyGfn.DIRTY);
        dirtyIndex = index + 1;
        return index + 1 - resetIndex >= softLimit;
    }

    /**
     * The loop of {@code kvm_dirty_ring_reset}: from {@code reset_index}, while the entry is harvested,
     * frees it (flags 0, store-release), advances and hands slot and offset to {@code batch}. Stops at
     * the first entry userspace has not harvested. Returns the number of entries freed.
     */
    int reset(ResetBatch batch) {
        int freed = 0;
        for (;;) {
            int index = resetIndex;
            int e = 2 * (index & (entries - 1));
            long head = (long) WORDS.getAcquire(words, e);
            if ((head & DirtyGfn.RESET) == 0) {
                break;
            }
            long offset = (long) WORDS.getOpaque(words, e + 1);
            WORDS.setRelease(words, e, head & ~FLAGS_MASK);
            resetIndex = index + 1;
            batch.add((int) (head >>> 32), offset);
            freed++;
        }
        return freed;
    }

    // ---------------------------------------------------------------------------------------------
    // Userspace side (the mapped ring)

    /** Entry at free-running index {@code index} (taken modulo the size), its flags read with acquire. */
    public DirtyGfn entry(int index) {
        int e = 2 * (index & (entries - 1));
        long head = (long) WORDS.getAcquire(words, e);
        return new DirtyGfn((int) (head & FLAGS_MASK), (int) (head >>> 32), (long) WORDS.getOpaque(words, e + 1));
    }

    /** Userspace: sets the RESET flag of entry {@code index} (store-release), handing it back to KVM. */
    public void markHarvested(int index) {
        int e = 2 * (index & (entries - 1));
        long head = (long) WORDS.getAcquire(words, e);
        WORDS.setRelease(words, e, head | DirtyGfn.RESET);
    }

    @Override
    public String toString() {
        return "DirtyRing[" + entries + " entries, " + used() + " used]";
    }
}
