package dev.guestmem.perf;

import dev.guestmem.vcpu.Guest;

/** The guest stores the workloads share. */
final class GuestStores {
    /** {@code MEM_TEST_VAL_1}. */
    static final long VAL_1 = 0x1122334455667788L;
    /** {@code MEM_TEST_VAL_2}. */
    static final long VAL_2 = 0x99AABBCCDDEEFF00L;

    private GuestStores() {
    }

    /** Stores {@code value} at offset 0 of {@code pages} pages from {@code gpa}; any exit fails the test. */
    static void fill(Guest g, long gpa, long pages, long value) {
        if (!g.fill(gpa, pages, SlotLayout.PAGE, value)) {
            throw new IllegalStateException("guest store into 0x" + Long.toHexString(gpa) + " + " + pages
                    + " pages exited: " + g.lastExit());
        }
    }

    /** One store that must complete in memory. */
    static void store(Guest g, long gpa, long value) {
        if (!g.write64(gpa, value)) {
            throw new IllegalStateException("guest store to 0x" + Long.toHexString(gpa) + " exited: " + g.lastExit());
        }
    }
}
