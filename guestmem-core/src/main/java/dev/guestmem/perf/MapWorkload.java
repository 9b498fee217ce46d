package dev.guestmem.perf;

import dev.guestmem.vcpu.GuestCode;

/**
 * {@code map} (spec §B.4 test 0): the guest stores into every page of one half of the 32 MiB test area and
 * syncs, then the other half; the host discards the half the guest is not writing, so every iteration
 * faults in and invalidates 8192 pages.
 */
final class MapWorkload implements Workload {
    private static final long HALF = 4096;

    private final PerfVm vm;
    private final SyncFlag sync;
    private final long secondHalf = SlotLayout.TEST_GPA + HALF * SlotLayout.PAGE;

    MapWorkload(PerfVm vm, SyncFlag sync) {
        this.vm = vm;
        this.sync = sync;
    }

    @Override
    public GuestCode guest() {
        return sync.alternating(g -> GuestStores.fill(g, SlotLayout.TEST_GPA, HALF, GuestStores.VAL_1),
                g -> GuestStores.fill(g, secondHalf, HALF, GuestStores.VAL_2));
    }

    @Override
    public void hostLoop() {
        // One madvise per slot the half covers: the whole half is one chunk.
        vm.discard(secondHalf, HALF, HALF);
        sync.hostSync();
        vm.discard(SlotLayout.TEST_GPA, HALF, HALF);
        sync.hostSync();
    }
}
