package dev.guestmem.perf;

import java.util.Arrays;
import java.util.Locale;

/**
 * The measurements of memslot_perf_test (spec §B.4), plus {@code setup}: the time to add all data slots
 * over the default test memory, which the selftest records in every run (§B.3 step 1).
 */
public enum PerfTest {
    /** Adding every data slot (mmap included) over {@code MEM_SIZE}; one measurement, no guest loop. */
    SETUP("setup", SlotLayout.MEM_PAGES),
    /** Guest faults in 8192 pages per iteration while the host discards them (32 MiB + 64 KiB). */
    MAP("map", SlotLayout.EXTRA_PAGES + 8192),
    /** The host discards 32768 pages one page per madvise (128 MiB + 64 KiB). */
    UNMAP("unmap", SlotLayout.EXTRA_PAGES + 32768),
    /** As {@link #UNMAP}, 2 MiB per madvise (still split at slot boundaries). */
    UNMAP_CHUNKED("unmap-chunked", SlotLayout.EXTRA_PAGES + 32768),
    /** Two moves of the last slot per iteration while the guest writes into it. */
    MOVE_ACTIVE("move-active", SlotLayout.MEM_PAGES),
    /** Two moves of the last slot per iteration while the guest writes next to it. */
    MOVE_INACTIVE("move-inactive", SlotLayout.MEM_PAGES),
    /** Guest and host each write and check every page of the 512 MiB test area per iteration. */
    RW("rw", SlotLayout.MEM_PAGES);

    private final String cliName;
    private final long memPages;

    PerfTest(String cliName, long memPages) {
        this.cliName = cliName;
        this.memPages = memPages;
    }

    /** The name on the command line and in the CSV. */
    public String cliName() {
        return cliName;
    }

    /** The VM memory of the test in 4 KiB pages, split over the data slots. */
    public long memPages() {
        return memPages;
    }

    /** Whether the test runs a guest loop on a vCPU (all but {@link #SETUP}). */
    public boolean needsGuest() {
        return this != SETUP;
    }

    /** Whether the host loop moves a slot ({@link #MOVE_ACTIVE}, {@link #MOVE_INACTIVE}): what {@code -q} affects. */
    public boolean movesSlots() {
        return this == MOVE_ACTIVE || this == MOVE_INACTIVE;
    }

    /** The test named {@code name} ({@link #cliName()}). */
    public static PerfTest parse(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        return Arrays.stream(values()).filter(t -> t.cliName.equals(n)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown test '" + name + "' (tests: "
                        + String.join(", ", Arrays.stream(values()).map(PerfTest::cliName).toList()) + ")"));
    }
}
