package dev.guestmem.perf;

/**
 * The knobs of dirty_log_perf_test (spec §C) this port has, with the selftest's defaults.
 *
 * @param vcpus         {@code -v}: vCPU threads, each with its own slice
 * @param bytesPerVcpu  {@code -b}: memory per vCPU
 * @param slots         {@code -x}: memslots the whole region is split into (it must divide evenly)
 * @param iterations    {@code -i}: dirty/get/clear iterations, at least 2
 * @param manualProtect without {@code -g}: {@code MANUAL_DIRTY_LOG_PROTECT2} with ENABLE | INITIALLY_SET
 */
public record DirtyLogPerfOptions(int vcpus, long bytesPerVcpu, int slots, int iterations, boolean manualProtect) {
    /** 1 vCPU, 1 GiB, 1 slot, 2 iterations, manual protection on. */
    public static DirtyLogPerfOptions defaults() {
        return new DirtyLogPerfOptions(1, 1L << 30, 1, 2, true);
    }

    /** Checks the selftest's rules; throws IllegalArgumentException with the broken one. */
    public DirtyLogPerfOptions {
        if (vcpus < 1) {
            throw new IllegalArgumentException("need at least one vCPU");
        }
        if (bytesPerVcpu < SlotLayout.PAGE || bytesPerVcpu % SlotLayout.PAGE != 0) {
            throw new IllegalArgumentException("memory per vCPU must be a positive multiple of 4 KiB");
        }
        if (iterations < 2) {
            throw new IllegalArgumentException("iterations must be at least 2, as in the selftest");
        }
        if (slots < 1 || totalPages(vcpus, bytesPerVcpu) % slots != 0) {
            throw new IllegalArgumentException("the " + totalPages(vcpus, bytesPerVcpu)
                    + " pages must divide evenly over " + slots + " memslots");
        }
    }

    /** Pages of the whole region. */
    public long totalPages() {
        return totalPages(vcpus, bytesPerVcpu);
    }

    /** Pages of each memslot. */
    public long pagesPerSlot() {
        return totalPages() / slots;
    }

    private static long totalPages(int vcpus, long bytesPerVcpu) {
        return vcpus * bytesPerVcpu / SlotLayout.PAGE;
    }
}
