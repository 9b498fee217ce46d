package dev.guestmem.perf;

import dev.guestmem.vcpu.GuestCode;

/**
 * {@code unmap} and {@code unmap chunked} (spec §B.4 tests 1, 2): the guest stores into the first page of
 * each half of the 128 MiB test area and syncs; the host discards each half {@code chunk} pages per
 * madvise (1, or 512 = 2 MiB), each call still split at slot boundaries.
 */
final class UnmapWorkload implements Workload {
    /** {@code MEM_TEST_UNMAP_CHUNK_SIZE} in pages. */
    static final long CHUNK_PAGES = 512;
    private static final long HALF = 16384;

    private final PerfVm vm;
    private final SyncFlag sync;
    private final long chunk;
    private final long secondHalf = SlotLayout.TEST_GPA + HALF * SlotLayout.PAGE;

    UnmapWorkload(PerfVm vm, SyncFlag sync, long chunk) {
        this.vm = vm;
        this.sync = sync;
        this.chunk = chunk;
    }

    @Override
    public GuestCode guest() {
        return sync.alternating(g -> GuestStores.store(g, SlotLayout.TEST_GPA, GuestStores.VAL_1),
                g -> GuestStores.store(g, secondHalf, GuestStores.VAL_2));
    }

    @Override
    public void hostLoop() {
        sync.hostSync();
        vm.discard(SlotLayout.TEST_GPA, HALF, chunk);
        sync.hostSync();
        vm.discard(secondHalf, HALF, chunk);
    }
}
