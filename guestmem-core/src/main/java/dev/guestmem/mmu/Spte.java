package dev.guestmem.mmu;

/**
 * The EPT shadow-page-table entry as KVM's TDP MMU lays it out (mmu.md §1.2 – §1.6): constants and
 * pure functions on {@code long} values, nothing else.
 *
 * <p>Leaf and non-leaf SPTEs carry {@link #MMU_PRESENT} (bit 11). The PFN field (bits 12..51) of a leaf
 * holds the host page's address {@code >> 12} (its hva, the address the MMU accesses it at); of a
 * non-leaf, the {@linkplain TablePool handle} of the child table. Writable leaves obey
 * W ⇒ MMU-writable ⇒ Host-writable (§1.4). Non-present SPTEs are {@link #NONPRESENT} (bit 63), never 0.
 */
public final class Spte {
    /** EPT Read (bit 0). */
    public static final long R = 1L;
    /** EPT Write ({@code PT_WRITABLE_MASK}, bit 1). */
    public static final long W = 1L << 1;
    /** EPT Execute (bit 2). */
    public static final long X = 1L << 2;
    /** The three hardware permission bits. */
    public static final long RWX = R | W | X;
    /** EPT memory type write-back (6) in bits 3..5, as KVM sets it for RAM. */
    public static final long MEMTYPE_WB = 6L << 3;
    /** Ignore guest PAT (bit 6). */
    public static final long IPAT = 1L << 6;
    /** {@code PT_PAGE_SIZE_MASK}: a leaf at level 2 or above (bit 7). */
    public static final long LARGE = 1L << 7;
    /** Accessed, set by the CPU (bit 8). */
    public static final long ACCESSED = 1L << 8;
    /** Dirty, set by the CPU on the first write through the entry (bit 9). */
    public static final long DIRTY = 1L << 9;
    /** {@code SPTE_MMU_PRESENT_MASK} (bit 11): KVM considers the SPTE present. */
    public static final long MMU_PRESENT = 1L << 11;
    /** {@code SPTE_BASE_ADDR_MASK}: bits 12..51. */
    public static final long PFN_MASK = 0x000F_FFFF_FFFF_F000L;
    /** {@code EPT_SPTE_HOST_WRITABLE} (bit 57): the host page may be written. */
    public static final long HOST_WRITABLE = 1L << 57;
    /** {@code EPT_SPTE_MMU_WRITABLE} (bit 58): KVM's MMU allows writes; may then be made writable locklessly. */
    public static final long MMU_WRITABLE = 1L << 58;
    /** {@code SHADOW_NONPRESENT_VALUE} (bit 63, also suppress-#VE). */
    public static final long NONPRESENT = 1L << 63;
    /** {@code FROZEN_SPTE}: the lock token of the freeze protocol (§1.6, §6.3); no RWX, no PFN, no bit 11. */
    public static final long FROZEN = NONPRESENT | 0x5a0L;

    /** MMIO SPTE pattern (EPT misconfiguration: W|X without R) and the mask it is tested under. */
    static final long MMIO_VALUE = W | X;
    static final long MMIO_MASK = RWX | NONPRESENT;
    /** Width of the MMIO generation (§1.6). */
    public static final int MMIO_GEN_BITS = 19;
    /** Mask of the generation bits an MMIO SPTE keeps. */
    public static final long MMIO_GEN_MASK = (1L << MMIO_GEN_BITS) - 1;
    private static final int MMIO_GEN_LOW_BITS = 8;
    private static final int MMIO_GEN_LOW_SHIFT = 3;
    private static final int MMIO_GEN_HIGH_SHIFT = 52;
    private static final long MMIO_GEN_LOW_MASK = (1L << MMIO_GEN_LOW_BITS) - 1;

    private Spte() {
    }

    // ---------------------------------------------------------------------------------------------
    // Predicates

    /** {@code is_shadow_present_pte}: bit 11. */
    public static boolean isPresent(long spte) {
        return (spte & MMU_PRESENT) != 0;
    }

    /** {@code is_last_spte}: a leaf is any entry at level 1, or one with the page-size bit above. */
    public static boolean isLeaf(long spte, int level) {
        return level == PageLevel.PG_4K || (spte & LARGE) != 0;
    }

    /** A present leaf at {@code level}. */
    public static boolean isPresentLeaf(long spte, int level) {
        return isPresent(spte) && isLeaf(spte, level);
    }

    /** {@code is_mmio_spte}. */
    public static boolean isMmio(long spte) {
        return (spte & MMIO_MASK) == MMIO_VALUE;
    }

    public static boolean isFrozen(long spte) {
        return spte == FROZEN;
    }

    public static boolean isWritable(long spte) {
        return (spte & W) != 0;
    }

    /** {@code is_mmu_writable_spte}. */
    public static boolean isMmuWritable(long spte) {
        return (spte & MMU_WRITABLE) != 0;
    }

    public static boolean isHostWritable(long spte) {
        return (spte & HOST_WRITABLE) != 0;
    }

    public static boolean isAccessed(long spte) {
        return (spte & ACCESSED) != 0;
    }

    public static boolean isDirty(long spte) {
        return (spte & DIRTY) != 0;
    }

    /** {@code is_access_allowed} for a guest load ({@code write} false) or store. */
    public static boolean allows(long spte, boolean write) {
        return (spte & (write ? W : R)) != 0;
    }

    /** The PFN field: the host page's address {@code >> 12}, or a child table's handle. */
    public static long pfn(long spte) {
        return (spte & PFN_MASK) >>> 12;
    }

    // ---------------------------------------------------------------------------------------------
    // Constructors

    /**
     * {@code make_spte} for a TDP leaf with {@code ACC_ALL}: MMU-present, R, X, Accessed, write-back memory,
     * the page-size bit above level 1, Host-writable iff {@code hostWritable}, and W | MMU-writable | Dirty
     * together when {@code writable} (≥ 6.13: a writable SPTE is born dirty).
     *
     * @throws IllegalArgumentException if {@code writable} without {@code hostWritable} (invariant §1.4)
     */
    public static long makeLeaf(long pfn, int level, boolean hostWritable, boolean writable) {
        if (writable && !hostWritable) {
            throw new IllegalArgumentException("a writable SPTE needs a host-writable page");
        }
        long spte = MMU_PRESENT | R | X | ACCESSED | MEMTYPE_WB | IPAT | ((pfn << 12) & PFN_MASK);
        if (level > PageLevel.PG_4K) {
            spte |= LARGE;
        }
        if (hostWritable) {
            spte |= HOST_WRITABLE;
        }
        if (writable) {
            spte |= W | MMU_WRITABLE | DIRTY;
        }
        return spte;
    }

    /** {@code make_nonleaf_spte}: full RWX and Accessed; permissions are decided at the leaf only. */
    public static long makeNonLeaf(long tableHandle) {
        return MMU_PRESENT | RWX | ACCESSED | ((tableHandle << 12) & PFN_MASK);
    }

    /** {@code make_mmio_spte}: the misconfiguration pattern, the gfn and the low 19 bits of {@code generation}. */
    public static long makeMmio(long gfn, long generation) {
        long gen = generation & MMIO_GEN_MASK;
        return MMIO_VALUE | ((gfn << 12) & PFN_MASK)
                | ((gen & MMIO_GEN_LOW_MASK) << MMIO_GEN_LOW_SHIFT)
                | ((gen >>> MMIO_GEN_LOW_BITS) << MMIO_GEN_HIGH_SHIFT);
    }

    /** The 19-bit generation an MMIO SPTE was made under ({@code get_mmio_spte_generation}). */
    public static long mmioGeneration(long spte) {
        long low = (spte >>> MMIO_GEN_LOW_SHIFT) & MMIO_GEN_LOW_MASK;
        long high = (spte >>> MMIO_GEN_HIGH_SHIFT) & (MMIO_GEN_MASK >>> MMIO_GEN_LOW_BITS);
        return high << MMIO_GEN_LOW_BITS | low;
    }

    /** The gfn an MMIO SPTE stands for. */
    public static long mmioGfn(long spte) {
        return pfn(spte);
    }

    /**
     * {@code make_small_spte}: the child at {@code index} of a huge leaf being split into a table of
     * level {@code childLevel}: same bits, the PFN advanced by the child's offset, and the page-size bit
     * cleared at level 1. The translation is identical, so a split needs no flush.
     */
    public static long makeSmall(long huge, int childLevel, int index) {
        long pfn = pfn(huge) + index * PageLevel.pages(childLevel);
        long spte = (huge & ~PFN_MASK) | ((pfn << 12) & PFN_MASK);
        return childLevel == PageLevel.PG_4K ? spte & ~LARGE : spte;
    }

    // ---------------------------------------------------------------------------------------------
    // Rules

    /**
     * {@code spte_needs_atomic_update}: with lockless aging every present leaf may change under a lock
     * holder (A cleared, D or W set), so such an update must be an exchange or an atomic bit clear.
     */
    public static boolean needsAtomicUpdate(long spte, int level) {
        return isPresentLeaf(spte, level);
    }

    /**
     * {@code leaf_spte_change_needs_tlb_flush} (≥ 6.13, §3.2): only clearing MMU-writable obliges the
     * lock holder to flush. Clearing W alone (dirty logging) is flushed by its caller, decided by what it
     * reaped; clearing A tolerates staleness.
     */
    public static boolean leafChangeNeedsFlush(long oldSpte, long newSpte) {
        // Only a present SPTE has meaningful software bits: an MMIO SPTE keeps generation bits up there.
        return isPresent(oldSpte) && isMmuWritable(oldSpte) && !(isPresent(newSpte) && isMmuWritable(newSpte));
    }

    /**
     * {@code check_spte_writable_invariants} and the other static rules of mmu.md §8.3 for a value about
     * to be stored at {@code level}.
     *
     * @return {@code null} if {@code spte} is legal, else what is wrong with it
     */
    public static String violation(long spte, int level) {
        if (isMmio(spte) || isFrozen(spte) || spte == NONPRESENT) {
            return isPresent(spte) ? "special SPTE with MMU-present" : null;
        }
        if (!isPresent(spte)) {
            return "non-present SPTE that is neither empty, frozen nor MMIO: 0x" + Long.toHexString(spte);
        }
        if (!isLeaf(spte, level)) {
            return null;
        }
        if (isWritable(spte) && !isMmuWritable(spte)) {
            return "W without MMU-writable: 0x" + Long.toHexString(spte);
        }
        if (isMmuWritable(spte) && !isHostWritable(spte)) {
            return "MMU-writable without Host-writable: 0x" + Long.toHexString(spte);
        }
        if ((pfn(spte) & (PageLevel.pages(level) - 1)) != 0) {
            return "huge leaf with an unaligned PFN: 0x" + Long.toHexString(spte);
        }
        return null;
    }
}
