package dev.guestmem.perf;

import java.util.Optional;

/**
 * How memslot_perf_test splits a test's memory over its data slots (spec §B.1, §B.2): slots 1..{@code slots}
 * contiguous from {@code MEM_GPA}, {@code pagesPerSlot} 4 KiB pages each, the remainder added to the last.
 *
 * @param slots        data slots (slot 0, the VM's own, not counted)
 * @param memPages     the test's memory in pages
 * @param pagesPerSlot pages of every slot but the last
 */
public record SlotLayout(int slots, long memPages, long pagesPerSlot) {
    /** 4 KiB guest and host pages, as on x86. */
    public static final long PAGE = 4096;
    /** {@code MEM_GPA}: where slot 1 starts; its first page is the selftest's sync area. */
    public static final long MEM_GPA = 0x1000_0000L;
    /** {@code MEM_EXTRA_SIZE} in pages: the sync/aux area before the test area. */
    public static final long EXTRA_PAGES = 16;
    /** {@code MEM_TEST_GPA}: the start of the test area. */
    public static final long TEST_GPA = MEM_GPA + EXTRA_PAGES * PAGE;
    /** {@code MEM_SIZE} in pages: 512 MiB + 64 KiB. */
    public static final long MEM_PAGES = EXTRA_PAGES + 131_072;
    /** {@code MEM_TEST_MOVE_GPA_DEST}: where the move tests send the last slot. */
    public static final long MOVE_DEST_GPA = MEM_GPA + MEM_PAGES * PAGE;
    /** Half of {@code MEM_TEST_MOVE_SIZE} (192 KiB): the last slot must be at least this big to be moved. */
    public static final long MOVE_HALF_BYTES = 96 << 10;

    /** The layout, or empty if a slot would get no page (the selftest's "count too high"). */
    public static Optional<SlotLayout> of(int slots, long memPages) {
        if (slots < 1 || memPages / slots == 0) {
            return Optional.empty();
        }
        return Optional.of(new SlotLayout(slots, memPages, memPages / slots));
    }

    /** Why {@code test} cannot run with {@code slots} data slots, in the selftest's words; empty if it can. */
    public static Optional<String> infeasibility(PerfTest test, int slots) {
        Optional<SlotLayout> layout = of(slots, test.memPages());
        if (layout.isEmpty()) {
            // The selftest reports its cap, which counts slot 0: the largest feasible data-slot count + 1.
            return Optional.of("Memslot count too high for this test, decrease the cap (max is "
                    + (test.memPages() + 1) + ")");
        }
        if ((test == PerfTest.MOVE_ACTIVE || test == PerfTest.MOVE_INACTIVE)
                && layout.get().bytes(slots) < MOVE_HALF_BYTES) {
            return Optional.of("Memslot count may be too high for this test, try adjusting the cap");
        }
        return Optional.empty();
    }

    /** Guest-physical address of data slot {@code k} (1-based). */
    public long gpa(int k) {
        return MEM_GPA + (k - 1) * pagesPerSlot * PAGE;
    }

    /** Size in bytes of data slot {@code k}: the last one takes the remainder. */
    public long bytes(int k) {
        return (pagesPerSlot + (k == slots ? memPages % slots : 0)) * PAGE;
    }

    /** The data slot (1-based) holding {@code gpa}, which must be inside the layout. */
    public int slotOf(long gpa) {
        long k = (gpa - MEM_GPA) / PAGE / pagesPerSlot + 1;
        return (int) Math.min(k, slots);
    }
}
