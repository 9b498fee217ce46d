package dev.guestmem.vcpu;

import static dev.guestmem.vcpu.GuestReader.MMIO;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.host.Advice;
import dev.guestmem.host.Protection;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.vm.Access;
import dev.guestmem.vm.EngineVm;
import dev.guestmem.vm.VmType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The kernel selftest scenarios of kernel-selftests.md with real vCPU threads: SMR-06 and SMR-07 (§A.1),
 * memslot_modification_stress (§B.5) and mmu_stress scaled down (§A.11).
 */
class KernelScenarioTest {
    private static final long GPA = 0xC0000000L;
    private static final long MB2 = 0x200000;
    private static final Duration JOIN = Duration.ofSeconds(30);
    private static final int LOOPS = 10;

    /** A 2 MiB THP-advised anonymous mapping, 2 MiB aligned (the selftests' region backing). */
    private static long thpRegion(EngineVm vm) {
        long raw = vm.host().mmap(2 * MB2);
        long a = (raw + MB2 - 1) & -MB2;
        assertEquals(0, vm.host().madvise(a, MB2, Advice.HUGEPAGE));
        return a;
    }

    /**
     * SMR-06: move slot 10 one page down under a reading vCPU, write 2 then 1 where GPA used to point,
     * move it back. A stale translation would show 2; MMIO while the slot is in flux is allowed.
     */
    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void smr06MoveAnInUseSlot(MemslotImpl impl) throws Exception {
        try (EngineVm vm = EngineVm.create(VmType.DEFAULT, impl)) {
            long hva = thpRegion(vm);
            assertEquals(0, vm.setUserMemoryRegion(10, 0, GPA, MB2, hva));
            GuestReader reader = new GuestReader(GPA);
            VcpuThread cpu = VcpuThread.start(vm.vcpu(0), reader);
            for (int loop = 0; loop < LOOPS; loop++) {
                vm.host().write64(hva, 0);
                reader.awaitValue(0);
                assertEquals(0, vm.setUserMemoryRegion(10, 0, GPA - 0x1000, MB2, hva));
                vm.host().write64(hva, 2);
                long seen = reader.freshRead();
                assertTrue(seen == 0 || seen == MMIO, "after the move GPA is the region's second page: " + seen);
                vm.host().write64(hva, 1);
                assertEquals(0, vm.setUserMemoryRegion(10, 0, GPA, MB2, hva));
                reader.awaitValue(1);
            }
            reader.stop();
            cpu.join(JOIN);
            List<Long> changes = reader.changes();
            assertFalse(changes.contains(2L), "the guest saw the stale page: " + changes);
            assertEquals(1L, changes.get(changes.size() - 1));
            // Each loop: 0, (MMIO)*, then 1; nothing else may ever appear.
            assertTrue(changes.stream().allMatch(v -> v == 0 || v == 1 || v == MMIO), changes::toString);
            assertEquals(List.of(), vm.mmu().invariants().violations());
        }
    }

    /**
     * SMR-07: delete slot 10 under a reading vCPU (it then sees MMIO and keeps running), re-create it with
     * fresh zeroed memory (it sees 0, never the old memory's marker), delete it again.
     */
    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void smr07DeleteAndRecreateAnInUseSlot(MemslotImpl impl) throws Exception {
        try (EngineVm vm = EngineVm.create(VmType.DEFAULT, impl)) {
            long hva = thpRegion(vm);
            vm.host().write64(hva, 0x5a5a);
            assertEquals(0, vm.setUserMemoryRegion(10, 0, GPA, MB2, hva));
            GuestReader reader = new GuestReader(GPA);
            VcpuThread cpu = VcpuThread.start(vm.vcpu(0), reader);
            reader.awaitValue(0x5a5a);
            for (int loop = 0; loop < LOOPS; loop++) {
                assertEquals(0, vm.setUserMemoryRegion(10, 0, GPA, 0, 0));
                assertEquals(MMIO, reader.freshRead(), "a deleted slot is MMIO at once");
                long fresh = thpRegion(vm);
                assertEquals(0, vm.setUserMemoryRegion(10, 0, GPA, MB2, fresh));
                assertEquals(0, reader.freshRead(), "the re-created slot shows its new, zeroed memory");
                assertEquals(0, vm.setUserMemoryRegion(10, 0, GPA, 0, 0));
                assertEquals(MMIO, reader.freshRead());
                assertEquals(0, vm.host().munmap(fresh, MB2));
                assertEquals(0, vm.setUserMemoryRegion(10, 0, GPA, MB2, hva));
                reader.awaitValue(0x5a5a);
            }
            reader.stop();
            cpu.join(JOIN);
            assertTrue(reader.changes().stream().allMatch(v -> v == 0 || v == 0x5a5a || v == MMIO),
                    reader.changes()::toString);
            assertEquals(List.of(), vm.mmu().invariants().violations());
        }
    }

    /**
     * memslot_modification_stress: a vCPU writes every page of its region in a loop while the host adds and
     * deletes a one-page slot 7 right below it, 10 times; every write must complete.
     */
    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void mmsSlotChurnNextToAWritingVcpu(MemslotImpl impl) throws Exception {
        try (EngineVm vm = EngineVm.create(VmType.DEFAULT, impl)) {
            long size = 4 * MB2;
            long base = 0x100000000L;
            assertEquals(0, vm.setUserMemoryRegion(1, 0, base, size, vm.host().mmap(size)));
            AtomicLong writes = new AtomicLong();
            AtomicReference<Access> bad = new AtomicReference<>();
            AtomicLong stop = new AtomicLong();
            VcpuThread cpu = VcpuThread.start(vm.vcpu(0), g -> {
                while (stop.get() == 0) {
                    for (long off = 0; off < size; off += 0x1000) {
                        if (!g.write64(base + off, off) && bad.get() == null) {
                            bad.set(g.lastExit());
                        }
                        writes.incrementAndGet();
                    }
                }
            });
            for (int i = 0; i < LOOPS; i++) {
                long page = vm.host().mmap(0x1000);
                assertEquals(0, vm.setUserMemoryRegion(7, 0, base - 0x1000, 0x1000, page));
                assertEquals(0, vm.setUserMemoryRegion(7, 0, base - 0x1000, 0, 0));
                assertEquals(0, vm.host().munmap(page, 0x1000));
            }
            long before = writes.get();
            while (writes.get() < before + size / 0x1000) {
                Thread.sleep(1);
            }
            stop.set(1);
            cpu.join(JOIN);
            assertEquals(null, bad.get(), "a write of the vCPU did not complete");
        }
    }

    /**
     * mmu_stress_test scaled down: 4 slots alias one 16 MiB mapping, 2 vCPUs write and read it in stages;
     * {@code mprotect(PROT_READ)} makes every write EFAULT, read-write lets them through again; then the
     * even slots are deleted and half the backing unmapped, and the VM is torn down with slots left.
     */
    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void mmuStressScaledDown(MemslotImpl impl) throws Exception {
        final long slotSize = 8 * MB2;
        final int slots = 4;
        final int vcpus = 2;
        final long base = 0x100000000L;
        try (EngineVm vm = EngineVm.create(VmType.DEFAULT, impl)) {
            long hva = vm.host().mmap(slotSize);
            for (long off = 0; off < slotSize; off += 8) {
                vm.host().write64(hva + off, 0xAAAAAAAAAAAAAAAAL);
            }
            for (int s = 0; s < slots; s++) {
                assertEquals(0, vm.setUserMemoryRegion(1 + s, 0, base + s * slotSize, slotSize, hva));
            }
            long span = slots * slotSize / vcpus;
            CyclicBarrier stage = new CyclicBarrier(vcpus + 1);
            List<String> failures = new ArrayList<>();
            List<VcpuThread> threads = new ArrayList<>();
            for (int c = 0; c < vcpus; c++) {
                final int id = c;
                long start = base + c * span;
                threads.add(VcpuThread.start(vm.vcpu(c), g -> {
                    writeAll(g, start, span, 0, id, failures);
                    sync(g, stage);
                    writeAll(g, start, span, 1, id, failures);
                    sync(g, stage);
                    for (long gpa = start; gpa < start + span; gpa += 0x1000) {
                        long v = g.read64(gpa);
                        if (g.lastExit() != null || v >>> 56 != 1 || (v & 0xFFFFFFFFFFFFL) != offsetOf(gpa, base, slotSize)) {
                            record(failures, "stage 2 read 0x" + Long.toHexString(v) + " at 0x" + Long.toHexString(gpa));
                        }
                    }
                    sync(g, stage); // host: mprotect(PROT_READ)
                    sync(g, stage);
                    for (long gpa = start; gpa < start + span; gpa += 0x1000) {
                        if (g.write64(gpa, 3) || !(g.lastExit() instanceof Access.Efault)) {
                            record(failures, "stage 3 write at 0x" + Long.toHexString(gpa) + ": " + g.lastExit());
                        }
                    }
                    sync(g, stage); // host: mprotect(PROT_READ | PROT_WRITE)
                    sync(g, stage);
                    writeAll(g, start, span, 4, id, failures);
                }));
            }
            stage.await(); // stage 0 written
            stage.await(); // stage 1 written
            stage.await(); // stage 2 read
            assertEquals(0, vm.host().mprotect(hva, slotSize, Protection.READ));
            stage.await();
            stage.await(); // stage 3: all writes faulted
            assertEquals(0, vm.host().mprotect(hva, slotSize, Protection.READ_WRITE));
            stage.await();
            for (VcpuThread t : threads) {
                t.join(JOIN);
            }
            synchronized (failures) {
                assertEquals(List.of(), failures);
            }
            for (int s = 0; s < slots; s += 2) {
                assertEquals(0, vm.setUserMemoryRegion(1 + s, 0, 0, 0, 0));
            }
            assertEquals(0, vm.host().munmap(hva, slotSize / 2));
            var cpu = vm.vcpu(0);
            assertEquals(new Access.Mmio(base, false), cpu.read64(base), "even slots are gone");
            assertEquals(new Access.Efault(base + slotSize), cpu.read64(base + slotSize), "first half unmapped");
            long tail = base + slotSize + slotSize / 2;
            long v = ((Access.Value) cpu.read64(tail)).value();
            assertEquals(4, v >>> 56, "stage 4 data survives in the second half");
            assertEquals(List.of(), vm.mmu().invariants().violations());
        }
    }

    private static long offsetOf(long gpa, long base, long slotSize) {
        return (gpa - base) % slotSize;
    }

    private static void writeAll(Guest g, long start, long span, long stage, int id, List<String> failures) {
        for (long gpa = start; gpa < start + span; gpa += 0x1000) {
            long offset = (gpa - 0x100000000L) % (8 * MB2);
            if (!g.write64(gpa, stage << 56 | (long) id << 48 | offset)) {
                record(failures, "stage " + stage + " write at 0x" + Long.toHexString(gpa) + ": " + g.lastExit());
            }
        }
    }

    private static void record(List<String> failures, String what) {
        synchronized (failures) {
            if (failures.size() < 20) {
                failures.add(what);
            }
        }
    }

    private static void sync(Guest g, CyclicBarrier stage) {
        g.idle(() -> {
            try {
                stage.await();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }
}
