package dev.guestmem.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.vcpu.MmuVcpu;
import dev.guestmem.vcpu.VcpuThread;
import dev.guestmem.vm.Access;
import dev.guestmem.vm.EngineVm;
import dev.guestmem.vm.VmConfig;
import dev.guestmem.vm.VmType;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A fault that found no slot (it ran in the memslot set before the slot was created again) races with a
 * fault in the new set that maps the gfn (mmu.md §2.2, §3.2). The slot-less fault must not replace a
 * leaf that already allows its access (≥ 6.11: spurious), and when it does replace a read-only leaf by an
 * MMIO SPTE, no vCPU may keep the old translation: here a frame is its hva, which the host may unmap next.
 */
class MmioFaultRaceTest {
    private static final long GPA = 0xC0000000L;
    private static final long SIZE = 0x4000;
    private static final Duration JOIN = Duration.ofSeconds(20);

    /**
     * vCPU 0 faults on {@code GPA} while slot 1 is deleted and stops before the MMU lock; slot 1 is created
     * again (published, its grace period waiting for vCPU 0) and {@code inNewSet} runs in the new set; then
     * vCPU 0's fault goes on. Returns vCPU 0's access result.
     */
    private static Access slotlessFaultAfter(EngineVm vm, Checkpoints points, long hva, boolean write,
            Runnable inNewSet) throws InterruptedException {
        assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA, 0, 0));
        AtomicReference<Access> result = new AtomicReference<>();
        CountDownLatch armed = new CountDownLatch(1);
        Thread vcpu = Thread.ofPlatform().unstarted(() -> {
            Latches.await(armed);
            result.set(write ? vm.vcpu(0).write64(GPA, 9) : vm.vcpu(0).read64(GPA));
        });
        Checkpoints.Gate beforeLock = points.arm("fault.beforeLock", vcpu);
        vcpu.start();
        armed.countDown();
        beforeLock.awaitArrival();
        // The CREATE publishes the new set at once but waits for vCPU 0's read section to end.
        AtomicReference<Integer> created = new AtomicReference<>();
        Thread create = Thread.ofPlatform().start(() -> created.set(vm.setUserMemoryRegion(1, 0, GPA, SIZE, hva)));
        while (vm.slot(1).isEmpty()) {
            Thread.onSpinWait();
        }
        inNewSet.run();
        beforeLock.release();
        vcpu.join(JOIN);
        create.join(JOIN);
        assertEquals(0, created.get());
        return result.get();
    }

    private static EngineVm vm(Checkpoints points) {
        return EngineVm.create(VmConfig.of(VmType.DEFAULT, MemslotImpl.TREE)
                .withMmu(MmuOptions.DEFAULT.withInterleaver(points)));
    }

    @Test
    void aSlotlessFaultLeavesALeafThatAllowsItsAccess() throws Exception {
        Checkpoints points = new Checkpoints();
        try (EngineVm vm = vm(points)) {
            long a = vm.host().mmap(SIZE);
            assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA, SIZE, a));
            Access read = slotlessFaultAfter(vm, points, a, false,
                    () -> assertEquals(Access.STORED, vm.vcpu(1).write64(GPA, 5), "a writable leaf in the new set"));
            assertEquals(new Access.Value(5), read);
            boolean[] writable = new boolean[1];
            vm.mmu().forEachLeaf((gfn, level, spte) -> writable[0] |= gfn == GPA >>> 12 && Spte.isWritable(spte));
            assertTrue(writable[0], "the writable leaf stayed");
            assertEquals(List.of(), vm.mmu().invariants().violations());
        }
    }

    @Test
    void anMmioSpteReplacingAReadOnlyLeafFlushesItsTranslation() throws Exception {
        Checkpoints points = new Checkpoints();
        try (EngineVm vm = vm(points)) {
            long a = vm.host().mmap(SIZE);
            assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA, SIZE, a));
            MmuVcpu reader = (MmuVcpu) vm.vcpu(1);
            CountDownLatch mapped = new CountDownLatch(1);
            AtomicBoolean go = new AtomicBoolean();
            AtomicBoolean started = new AtomicBoolean();
            VcpuThread[] thread = new VcpuThread[1];
            Access store = slotlessFaultAfter(vm, points, a, true, () -> {
                // vCPU 1 reads the never-written page (a read-only leaf) and stays in guest mode with it.
                started.set(true);
                thread[0] = VcpuThread.start(reader, g -> {
                    g.read64(GPA);
                    mapped.countDown();
                    while (!go.get()) {
                        g.read64(GPA + 0x1000);
                    }
                });
                Latches.await(mapped);
            });
            assertTrue(started.get());
            assertEquals(new Access.Mmio(GPA, true), store, "the fault decided there was no slot: an MMIO exit");
            boolean stale = reader.tlbMapsHostRange(a, a + 0x1000, false) && !reader.flushPending();
            go.set(true);
            thread[0].join(JOIN);
            assertFalse(stale, "vCPU 1 still translates the page through the replaced read-only leaf");
            assertEquals(0, vm.host().read64(a));
            assertEquals(List.of(), vm.mmu().invariants().violations());
        }
    }
}
