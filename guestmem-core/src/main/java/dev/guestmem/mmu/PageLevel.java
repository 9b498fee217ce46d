package dev.guestmem.mmu;

import dev.guestmem.memslot.KvmLimits;

/**
 * Geometry of the TDP page-table tree (mmu.md §1.1): 512 entries per table, level 1 maps 4 KiB, level 2
 * 2 MiB, and each level up multiplies the span by 512.
 *
 * <p>The root is level 5: the modelled guest-physical width is 52 bits ({@link KvmLimits#MAX_GPA_BITS}),
 * and four levels only reach 48. A five-level EPT is what hardware with a 52-bit MAXPHYADDR uses.
 */
public final class PageLevel {
    /** {@code PG_LEVEL_4K}. */
    public static final int PG_4K = 1;
    /** {@code PG_LEVEL_2M}. */
    public static final int PG_2M = 2;
    /** Bits of gfn one level consumes ({@code SPTE_LEVEL_BITS}). */
    public static final int LEVEL_BITS = 9;
    /** Entries per table ({@code SPTE_ENT_PER_PAGE}). */
    public static final int ENTRIES = 1 << LEVEL_BITS;
    /** Level of the root table. */
    public static final int ROOT = 5;
    /** Largest leaf level the MMU creates: 2 MiB (1 GiB leaves are not modelled). */
    public static final int MAX_HUGE = PG_2M;

    static {
        // The root must cover every gfn a memslot may hold.
        if (LEVEL_BITS * ROOT < KvmLimits.MAX_GPA_BITS - KvmLimits.PAGE_SHIFT) {
            throw new ExceptionInInitializerError("root level too low for the guest-physical width");
        }
    }

    private PageLevel() {
    }

    /** Number of 4 KiB frames one entry of a level-{@code level} table spans. */
    public static long pages(int level) {
        return 1L << (LEVEL_BITS * (level - 1));
    }

    /** Index of {@code gfn} in a level-{@code level} table. */
    public static int index(long gfn, int level) {
        return (int) (gfn >>> (LEVEL_BITS * (level - 1))) & (ENTRIES - 1);
    }

    /** {@code gfn_round_for_level}: the first gfn of the level-{@code level} frame containing {@code gfn}. */
    public static long round(long gfn, int level) {
        return gfn & -pages(level);
    }
}
