package dev.guestmem.perf;

import dev.guestmem.vcpu.GuestCode;
import dev.guestmem.vm.Access;

/**
 * {@code move active area} and {@code move inactive area} (spec §B.4 tests 3, 4): the guest keeps storing
 * into 48 pages without syncing while the host moves the last slot away and back (two MOVEs per
 * iteration). Active: half the pages are in the moved slot, and stores there that exit as MMIO while it is
 * away are dropped. Inactive: all 48 pages are just below it, and any exit fails the test.
 */
final class MoveWorkload implements Workload {
    private static final long AREA_PAGES = 48;

    private final PerfVm vm;
    private final SyncFlag sync;
    private final boolean active;
    private final long src;
    private final long areaGpa;

    MoveWorkload(PerfVm vm, SyncFlag sync, boolean active) {
        this.vm = vm;
        this.sync = sync;
        this.active = active;
        this.src = vm.layout().gpa(vm.layout().slots());
        this.areaGpa = src - (active ? SlotLayout.MOVE_HALF_BYTES : 2 * SlotLayout.MOVE_HALF_BYTES);
    }

    @Override
    public GuestCode guest() {
        return g -> {
            if (!sync.guestStarted(g)) {
                return;
            }
            while (!sync.exitRequested()) {
                for (long p = 0; p < AREA_PAGES; p++) {
                    long gpa = areaGpa + p * SlotLayout.PAGE;
                    if (!g.write64(gpa, GuestStores.VAL_1) && !allowedExit(g.lastExit())) {
                        throw new IllegalStateException("guest store to 0x" + Long.toHexString(gpa) + " exited: "
                                + g.lastExit());
                    }
                }
            }
        };
    }

    /** The selftest's {@code mmio_ok} window: an 8-byte MMIO store into the moved half, active test only. */
    private boolean allowedExit(Access exit) {
        return active && exit instanceof Access.Mmio(long gpa, boolean write) && write && gpa >= src
                && gpa < src + SlotLayout.MOVE_HALF_BYTES;
    }

    @Override
    public void hostLoop() {
        vm.moveLastSlot(SlotLayout.MOVE_DEST_GPA);
        vm.moveLastSlot(src);
    }
}
