package dev.guestmem.fuzz;

/**
 * What trace-format.md ("Reserved for the reference runner") keeps away from traces: the runner's
 * memslot id, the guest-physical window from its doorbell to the end of its code slot, and the reach of
 * its identity map. These are facts of the trace language; the KVM backend implements them (its tests
 * check that it uses the same numbers).
 */
public final class ReservedForRunner {
    /** The memslot id of the runner's guest code (in address space 0). */
    public static final int SLOT_ID = 32763;
    /** The doorbell gpa, in no memslot: the first address of the window traces keep clear. */
    public static final long WINDOW_START = 0xFFD0_0000L;
    /** The end (exclusive) of the runner's code slot {@code 0xFFE00000-0xFFE07FFF}: the window's end. */
    public static final long WINDOW_END = 0xFFE0_8000L;
    /** Guest accesses stay below this: the runner identity-maps only the low 4 GiB. */
    public static final long ACCESS_LIMIT = 1L << 32;

    private static final int SLOT_ID_MASK = 0xFFFF;

    private ReservedForRunner() {
    }

    /** Whether {@code slot} ({@code as_id << 16 | id}) names the runner's slot id, in any address space. */
    public static boolean isReservedSlot(int slot) {
        return (slot & SLOT_ID_MASK) == SLOT_ID;
    }

    /**
     * Whether the guest-physical range {@code [gpa, gpa + size)} meets the window. An empty range meets
     * nothing; a range that wraps past 2^64 is refused by the kernel's argument checks (spec §1.1 step 12)
     * before it could, so it does not count either.
     */
    public static boolean meetsWindow(long gpa, long size) {
        long end = gpa + size;
        if (size == 0 || Long.compareUnsigned(end, gpa) < 0) {
            return false;
        }
        return Long.compareUnsigned(gpa, WINDOW_END) < 0 && Long.compareUnsigned(end, WINDOW_START) > 0;
    }

    /** Whether a guest access at {@code gpa} is within the runner's reach: below 4 GiB, outside the window. */
    public static boolean isReachable(long gpa) {
        return Long.compareUnsigned(gpa, ACCESS_LIMIT) < 0 && !meetsWindow(gpa, Long.BYTES);
    }
}
