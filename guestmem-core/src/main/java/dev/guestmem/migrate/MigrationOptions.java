package dev.guestmem.migrate;

import java.time.Duration;
import java.util.Objects;

/**
 * What to migrate and how.
 *
 * @param memoryBytes     guest memory, split evenly over {@code slots} memslots (each a multiple of 2 MiB)
 * @param slots           number of memslots
 * @param vcpus           vCPU threads running the write workload
 * @param writeRate       guest stores per second per vCPU (0: the vCPUs are idle)
 * @param hotFraction     share of the memory that forms the hot set
 * @param hotShare        share of the stores that go to the hot set (the rest: anywhere)
 * @param mode            how dirty pages are collected
 * @param bandwidth       copy bandwidth cap in bytes per second (0: none)
 * @param maxRounds       pre-copy rounds after the first full copy, at most
 * @param downtimeTarget  stop pre-copying once the remaining dirty set could be sent within this time
 * @param chaos           during the migration, MOVE a memslot, discard host memory
 *                        ({@code madvise(DONTNEED)}) and write guest memory from the VMM side
 * @param prealloc        fault the destination's memory in before the migration starts
 * @param seed            seed of the workload's random page choice
 */
public record MigrationOptions(long memoryBytes, int slots, int vcpus, long writeRate, double hotFraction,
        double hotShare, LogMode mode, long bandwidth, int maxRounds, Duration downtimeTarget, boolean chaos,
        boolean prealloc, long seed) {
    /** 2 MiB: slot sizes are multiples of it, so that memory can be mapped with huge pages. */
    public static final long SLOT_ALIGN = 2L << 20;

    public MigrationOptions {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(downtimeTarget, "downtimeTarget");
        if (slots < 1 || vcpus < 1 || maxRounds < 1) {
            throw new IllegalArgumentException("slots, vCPUs and rounds must be at least 1");
        }
        if (memoryBytes <= 0 || memoryBytes % (SLOT_ALIGN * slots) != 0) {
            throw new IllegalArgumentException("memory must be a positive multiple of " + slots + " x 2 MiB: "
                    + memoryBytes);
        }
        if (writeRate < 0 || bandwidth < 0) {
            throw new IllegalArgumentException("write rate and bandwidth cannot be negative");
        }
        if (!(hotFraction > 0 && hotFraction <= 1) || !(hotShare >= 0 && hotShare <= 1)) {
            throw new IllegalArgumentException("hot fraction must be in (0, 1], hot share in [0, 1]");
        }
    }

    /**
     * The embedded default: 256 MiB in 4 memslots, 2 vCPUs each storing 200,000 times a second, 90% of the
     * stores into a 2% hot set, clear-log mode, no bandwidth cap, at most 30 pre-copy rounds, a 20 ms
     * downtime target, no chaos, destination memory preallocated.
     */
    public static MigrationOptions defaults() {
        return new MigrationOptions(256L << 20, 4, 2, 200_000, 0.02, 0.9, LogMode.CLEAR_LOG, 0, 30,
                Duration.ofMillis(20), false, true, 1);
    }

    /** Bytes of one memslot. */
    public long slotBytes() {
        return memoryBytes / slots;
    }

    public MigrationOptions withMemory(long bytes, int slotCount) {
        return new MigrationOptions(bytes, slotCount, vcpus, writeRate, hotFraction, hotShare, mode, bandwidth,
                maxRounds, downtimeTarget, chaos, prealloc, seed);
    }

    public MigrationOptions withVcpus(int count) {
        return new MigrationOptions(memoryBytes, slots, count, writeRate, hotFraction, hotShare, mode, bandwidth,
                maxRounds, downtimeTarget, chaos, prealloc, seed);
    }

    public MigrationOptions withWriteRate(long storesPerSecond) {
        return new MigrationOptions(memoryBytes, slots, vcpus, storesPerSecond, hotFraction, hotShare, mode,
                bandwidth, maxRounds, downtimeTarget, chaos, prealloc, seed);
    }

    public MigrationOptions withMode(LogMode value) {
        return new MigrationOptions(memoryBytes, slots, vcpus, writeRate, hotFraction, hotShare, value, bandwidth,
                maxRounds, downtimeTarget, chaos, prealloc, seed);
    }

    public MigrationOptions withBandwidth(long bytesPerSecond) {
        return new MigrationOptions(memoryBytes, slots, vcpus, writeRate, hotFraction, hotShare, mode,
                bytesPerSecond, maxRounds, downtimeTarget, chaos, prealloc, seed);
    }

    public MigrationOptions withMaxRounds(int rounds) {
        return new MigrationOptions(memoryBytes, slots, vcpus, writeRate, hotFraction, hotShare, mode, bandwidth,
                rounds, downtimeTarget, chaos, prealloc, seed);
    }

    public MigrationOptions withPrealloc(boolean value) {
        return new MigrationOptions(memoryBytes, slots, vcpus, writeRate, hotFraction, hotShare, mode, bandwidth,
                maxRounds, downtimeTarget, chaos, value, seed);
    }

    public MigrationOptions withChaos(boolean value) {
        return new MigrationOptions(memoryBytes, slots, vcpus, writeRate, hotFraction, hotShare, mode, bandwidth,
                maxRounds, downtimeTarget, value, prealloc, seed);
    }
}
