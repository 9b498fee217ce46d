package dev.guestmem.perf;

import dev.guestmem.vcpu.Guest;
import dev.guestmem.vcpu.GuestCode;

/**
 * {@code RW} (spec §B.4 test 5): guest and host each write their value into every page of the 512 MiB
 * test area (guest at offset 0, host at the middle of the page), sync, then check and clear the other's
 * value, sync: read/write coherence through both paths across all slots.
 */
final class RwWorkload implements Workload {
    private static final long PAGES = 131_072;
    private static final long MIDDLE = SlotLayout.PAGE / 2;

    private final PerfVm vm;
    private final SyncFlag sync;

    RwWorkload(PerfVm vm, SyncFlag sync) {
        this.vm = vm;
        this.sync = sync;
    }

    @Override
    public GuestCode guest() {
        return sync.alternating(g -> GuestStores.fill(g, SlotLayout.TEST_GPA, PAGES, GuestStores.VAL_1),
                RwWorkload::takeHostValues);
    }

    /** The guest's second phase: every page's middle word must hold the host's value; clear it. */
    private static void takeHostValues(Guest g) {
        long first = SlotLayout.TEST_GPA + MIDDLE;
        long taken = g.take(first, PAGES, SlotLayout.PAGE, GuestStores.VAL_2);
        if (taken != PAGES) {
            long gpa = first + taken * SlotLayout.PAGE;
            throw new IllegalStateException("guest at 0x" + Long.toHexString(gpa) + ": " + (g.lastExit() != null
                    ? "exited " + g.lastExit() : "read 0x" + Long.toHexString(g.read64(gpa)) + ", expected the host's value"));
        }
    }

    @Override
    public void hostLoop() {
        for (long p = 0; p < PAGES; p++) {
            vm.hostWrite64(SlotLayout.TEST_GPA + p * SlotLayout.PAGE + MIDDLE, GuestStores.VAL_2);
        }
        sync.hostSync();
        for (long p = 0; p < PAGES; p++) {
            long gpa = SlotLayout.TEST_GPA + p * SlotLayout.PAGE;
            long v = vm.hostRead64(gpa);
            if (v != GuestStores.VAL_1) {
                throw new IllegalStateException("host read 0x" + Long.toHexString(v) + " at 0x"
                        + Long.toHexString(gpa) + ", expected the guest's value");
            }
            vm.hostWrite64(gpa, 0);
        }
        sync.hostSync();
    }
}
