package dev.guestmem.dirty;

import static dev.guestmem.Errno.E2BIG;
import static dev.guestmem.Errno.EINVAL;
import static dev.guestmem.Errno.ENXIO;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.memslot.MemslotFlags;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.vm.Access;
import dev.guestmem.vm.Capability;
import dev.guestmem.vm.EngineVm;
import dev.guestmem.vm.Vcpu;
import dev.guestmem.vm.VmType;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The dirty ring (spec §4.6): enabling it, pushes, harvest in order, soft-full exits and reset. */
class DirtyRingTest {
    private static final long GPA = 0x4000_0000L;
    private static final long PAGE = 4096;
    private static final int SLOT = 2;

    private final EngineVm vm = EngineVm.create(VmType.DEFAULT, MemslotImpl.TREE);

    @AfterEach
    void close() {
        assertEquals(List.of(), vm.mmu().invariants().violations());
        assertEquals(0, vm.dirtyLog().stats().ringOverflows());
        vm.close();
    }

    private long logSlot(long pages) {
        long hva = vm.host().mmap(pages * PAGE);
        assertEquals(0, vm.setUserMemoryRegion(SLOT, MemslotFlags.LOG_DIRTY_PAGES, GPA, pages * PAGE, hva));
        return hva;
    }

    private record Harvested(int slot, long offset) {
    }

    private static List<Harvested> harvest(RingHarvester harvester) {
        List<Harvested> out = new ArrayList<>();
        harvester.harvest((slot, offset) -> out.add(new Harvested(slot, offset)));
        return out;
    }

    @Test
    void enableRulesAsMeasuredOnTheReferenceKernel() {
        assertEquals(1L << 20, vm.checkExtension(Capability.DIRTY_LOG_RING));
        assertEquals(1L << 20, vm.checkExtension(Capability.DIRTY_LOG_RING_ACQ_REL));
        assertEquals(0, vm.checkExtension(Capability.DIRTY_LOG_RING_WITH_BITMAP));
        assertEquals(3, vm.checkExtension(Capability.MANUAL_DIRTY_LOG_PROTECT2));
        assertEquals(0, vm.checkExtension(Capability.MANUAL_DIRTY_LOG_PROTECT));
        long[][] sizes = {{0, EINVAL}, {3, EINVAL}, {2048, EINVAL}, {3 << 12, EINVAL}, {1L << 21, E2BIG},
            {1L << 32, EINVAL}, {(1L << 32) + 4096, 0}};
        for (long[] row : sizes) {
            DirtyLogCaps caps = new DirtyLogCaps();
            assertEquals(row[1], caps.enableRing(row[0], false), "size 0x" + Long.toHexString(row[0]));
        }
        DirtyLogCaps caps = new DirtyLogCaps();
        assertEquals(0, caps.enableRing(1L << 20, false));
        assertEquals(EINVAL, caps.enableRing(4096, false), "only once");
        assertEquals(EINVAL, new DirtyLogCaps().enableRing(4096, true), "not after a vCPU exists");
        assertEquals(EINVAL, vm.enableCap(Capability.DIRTY_LOG_RING_WITH_BITMAP, 0), "arm64 only");
        assertEquals(EINVAL, vm.enableCap(Capability.MANUAL_DIRTY_LOG_PROTECT, 1), "obsolete");
        assertEquals(-EINVAL, vm.resetDirtyRings(), "reset without a ring");
        assertEquals(0, vm.enableCap(Capability.DIRTY_LOG_RING_ACQ_REL, 8192));
        assertEquals(EINVAL, vm.enableCap(Capability.DIRTY_LOG_RING, 8192));
    }

    @Test
    void manualProtectRulesAsMeasuredOnTheReferenceKernel() {
        DirtyLogCaps caps = new DirtyLogCaps();
        for (long bad : new long[] {2, 4, 6, 7, 1L << 63, 0x1_0000_0003L}) {
            assertEquals(EINVAL, caps.enableManualProtect(bad), Long.toHexString(bad));
        }
        assertEquals(0, caps.enableManualProtect(3));
        assertTrue(caps.manualProtect());
        assertEquals(0, caps.enableManualProtect(0));
        assertFalse(caps.manualProtect());
        assertEquals(0, caps.enableManualProtect(1));
        assertTrue(caps.manualProtect());
    }

    @Test
    void pushesAreHarvestedInOrderAndResetReprotects() {
        assertEquals(0, vm.enableCap(Capability.DIRTY_LOG_RING, 4096));
        long hva = logSlot(256);
        Vcpu cpu = vm.vcpu(0);
        RingHarvester harvester = new RingHarvester(vm.dirtyLog().ring(0));
        for (long p : new long[] {7, 3, 200, 3}) {
            assertEquals(Access.STORED, cpu.write64(GPA + p * PAGE, p));
        }
        // The second store to page 3 went through the writable SPTE: one entry per SPTE made writable.
        assertEquals(List.of(new Harvested(SLOT, 7), new Harvested(SLOT, 3), new Harvested(SLOT, 200)),
                harvest(harvester));
        assertEquals(List.of(), harvest(harvester), "harvested entries are not dirty any more");
        assertEquals(3, vm.resetDirtyRings());
        assertEquals(0, vm.resetDirtyRings(), "nothing harvested since");
        assertEquals(Access.STORED, cpu.write64(GPA + 3 * PAGE, 9), "protected again: faults and is logged");
        assertEquals(List.of(new Harvested(SLOT, 3)), harvest(harvester));
        assertEquals(9, vm.host().read64(hva + 3 * PAGE));
        // Without a bitmap, GET and CLEAR have nothing to say.
        assertEquals(ENXIO, vm.getDirtyLog(SLOT, new long[4]));
    }

    @Test
    void aResetFreesOnlyUpToTheFirstEntryNotHarvested() {
        assertEquals(0, vm.enableCap(Capability.DIRTY_LOG_RING, 4096));
        logSlot(16);
        Vcpu cpu = vm.vcpu(0);
        for (int p = 0; p < 4; p++) {
            cpu.write64(GPA + p * PAGE, 1);
        }
        DirtyRing ring = vm.dirtyLog().ring(0);
        ring.markHarvested(0);
        ring.markHarvested(1);
        ring.markHarvested(3); // out of order: the reset stops at entry 2
        assertEquals(2, vm.resetDirtyRings());
        assertEquals(2, ring.used());
        assertEquals(DirtyGfn.DIRTY, ring.entry(2).flags());
        assertEquals(0, ring.entry(0).flags(), "freed entries have flags 0");
    }

    @Test
    void aSoftFullRingMakesTheVcpuExitUntilReset() {
        assertEquals(0, vm.enableCap(Capability.DIRTY_LOG_RING, 4096)); // 256 entries, soft limit 192
        logSlot(256);
        Vcpu cpu = vm.vcpu(0);
        DirtyRing ring = vm.dirtyLog().ring(0);
        assertEquals(192, ring.softLimit());
        for (int p = 0; p < 191; p++) {
            assertEquals(Access.STORED, cpu.write64(GPA + p * PAGE, 1));
        }
        // The 192nd push reaches the soft limit: the fault completes, the store does not happen.
        Access full = cpu.write64(GPA + 191 * PAGE, 0xAB);
        assertInstanceOf(Access.RingFull.class, full);
        assertEquals(0, vm.host().read64(vm.slot(SLOT).orElseThrow().userspaceAddr() + 191 * PAGE));
        assertInstanceOf(Access.RingFull.class, cpu.read64(GPA), "every entry is refused while full");
        assertEquals(192, ring.used());
        int harvested = new RingHarvester(ring).harvest((slot, offset) -> { });
        assertEquals(192, harvested);
        assertInstanceOf(Access.RingFull.class, cpu.write64(GPA, 1), "harvesting alone does not help");
        assertEquals(192, vm.resetDirtyRings());
        assertEquals(Access.STORED, cpu.write64(GPA + 191 * PAGE, 0xAB), "after the reset the store runs");
        assertEquals(0xAB, vm.host().read64(vm.slot(SLOT).orElseThrow().userspaceAddr() + 191 * PAGE));
    }

    @Test
    void vmmWritesGoToTheBitmapOrAreLostWithoutARunningVcpu() {
        assertEquals(0, vm.enableCap(Capability.DIRTY_LOG_RING, 4096));
        logSlot(4);
        assertEquals(0, vm.dirtyLog().writer().write64(GPA, 1));
        assertEquals(1, vm.dirtyLog().stats().lostWithoutVcpu(), "rings, no vCPU, no bitmap: lost (WARN)");
    }

    @Test
    void resetBatchCoalescesWindowsForwardAndBackward() {
        List<String> batches = new ArrayList<>();
        ResetBatch batch = new ResetBatch((slot, offset, mask) ->
                batches.add(slot + "@" + offset + ":" + Long.toHexString(mask)));
        batch.add(1, 100);
        batch.add(1, 101);
        batch.add(1, 163); // still inside [100, 164)
        batch.add(1, 164); // outside: new window
        batch.add(1, 130); // 34 below 164 and the window still fits: moves the base down
        batch.add(1, 100); // 30 below 130, but 164 would then be 64 away: new window
        batch.add(2, 100); // another slot
        batch.add(2, 100);
        batch.finish();
        assertEquals(List.of("1@100:8000000000000003", "1@130:400000001", "1@100:1", "2@100:1"), batches);
    }
}
