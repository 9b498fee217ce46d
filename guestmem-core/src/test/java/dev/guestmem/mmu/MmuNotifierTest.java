package dev.guestmem.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.host.Advice;
import dev.guestmem.host.HostMemory;
import dev.guestmem.host.Protection;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.vm.Access;
import dev.guestmem.vm.EngineVm;
import dev.guestmem.vm.FileTable;
import dev.guestmem.vm.Vcpu;
import dev.guestmem.vm.VmConfig;
import dev.guestmem.vm.VmType;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The MMU notifier (kvm-memory-spec §3.3/§3.4, §2.5): invalidations reach aliasing and INVALID slots,
 * memslot publications wait for in-flight invalidations, and the aging callbacks.
 */
class MmuNotifierTest {
    private static final long GPA = 0xC0000000L;

    private static List<Long> mappedGfns(EngineVm vm) {
        List<Long> gfns = new ArrayList<>();
        vm.mmu().forEachLeaf((gfn, level, spte) -> {
            if (Spte.isPresent(spte)) {
                gfns.add(gfn);
            }
        });
        return gfns;
    }

    @Test
    void anInvalidationZapsEveryAliasOfTheRange() {
        try (EngineVm vm = EngineVm.create(VmType.DEFAULT, MemslotImpl.ARRAY)) {
            long a = vm.host().mmap(0x4000);
            assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA, 0x4000, a));
            assertEquals(0, vm.setUserMemoryRegion(2, 0, GPA + 0x100000, 0x2000, a + 0x2000));
            Vcpu cpu = vm.vcpu(0);
            for (long off = 0; off < 0x4000; off += 0x1000) {
                assertEquals(Access.STORED, cpu.write64(GPA + off, off));
            }
            assertEquals(Access.STORED, cpu.write64(GPA + 0x101000, 7));
            long g = GPA >>> 12;
            assertEquals(List.of(g, g + 1, g + 2, g + 3, g + 0x101), mappedGfns(vm));
            assertEquals(0, vm.host().mprotect(a + 0x3000, 0x1000, Protection.READ));
            assertEquals(List.of(g, g + 1, g + 2), mappedGfns(vm), "page 3 of slot 1 and its alias, page 1 of slot 2");
            assertEquals(new Access.Efault(GPA + 0x101000), cpu.write64(GPA + 0x101000, 8), "the alias too");
            assertEquals(new Access.Value(7), cpu.read64(GPA + 0x3000));
        }
    }

    @Test
    void anInvalidationDuringDeleteStillReachesTheInvalidSlot() throws Exception {
        Checkpoints points = new Checkpoints();
        VmConfig config = VmConfig.of(VmType.DEFAULT, MemslotImpl.TREE)
                .withMmu(MmuOptions.DEFAULT.withInterleaver(points));
        try (EngineVm vm = EngineVm.create(config)) {
            long a = vm.host().mmap(0x2000);
            assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA, 0x2000, a));
            assertEquals(Access.STORED, vm.vcpu(0).write64(GPA + 0x1000, 1));
            Checkpoints.Gate invalid = points.arm("memslot.invalidated");
            AtomicInteger rc = new AtomicInteger(-1);
            Thread delete = Thread.ofPlatform().start(() -> rc.set(vm.setUserMemoryRegion(1, 0, GPA, 0, 0)));
            invalid.awaitArrival();
            assertTrue(vm.slot(1).orElseThrow().flags() >= 1 << 16, "the INVALID copy is what is published");
            assertEquals(List.of((GPA >>> 12) + 1), mappedGfns(vm), "not zapped yet");
            // The host discards the page now: the notifier must find the INVALID slot and zap it.
            assertEquals(0, vm.host().madvise(a + 0x1000, 0x1000, Advice.DONTNEED));
            assertEquals(List.of(), mappedGfns(vm));
            invalid.release();
            delete.join(20_000);
            assertEquals(0, rc.get());
            assertEquals(List.of(), vm.mmu().invariants().violations());
        }
    }

    @Test
    void aMemslotPublicationWaitsForAnInvalidationInFlight() throws Exception {
        HeldInvalidation held = new HeldInvalidation();
        try (HostMemory host = new HostMemory();
                EngineVm vm = new EngineVm(host, new FileTable(), VmConfig.of(VmType.DEFAULT, MemslotImpl.TREE))) {
            long a = host.mmap(0x2000);
            assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA, 0x1000, a));
            host.addInvalidationListener(held);
            Thread discard = Thread.ofPlatform().start(() -> host.madvise(a, 0x1000, Advice.DONTNEED));
            held.awaitInside();
            // The MMU's start has run, its end has not: a new slot must not be published in between.
            Thread create = Thread.ofPlatform().start(() -> vm.setUserMemoryRegion(2, 0, GPA + 0x1000, 0x1000,
                    a + 0x1000));
            while (create.getState() != Thread.State.WAITING && create.isAlive()) {
                Thread.onSpinWait();
            }
            assertTrue(vm.slot(2).isEmpty(), "published while an invalidation was between start and end");
            held.release();
            discard.join(20_000);
            create.join(20_000);
            assertTrue(vm.slot(2).isPresent());
        }
    }

    @Test
    void agingClearsAccessedWithoutFlushingAndTheCpuSetsItAgain() {
        try (EngineVm vm = EngineVm.create(VmType.DEFAULT, MemslotImpl.TREE)) {
            long a = vm.host().mmap(0x2000);
            assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA, 0x2000, a));
            Vcpu cpu = vm.vcpu(0);
            assertFalse(vm.mmuNotifier().testYoung(a), "nothing mapped yet");
            assertEquals(Access.STORED, cpu.write64(GPA, 1));
            assertTrue(vm.mmuNotifier().testYoung(a));
            assertFalse(vm.mmuNotifier().testYoung(a + 0x1000));
            long flushes = vm.stats().orElseThrow().remoteTlbFlush();
            assertTrue(vm.mmuNotifier().clearYoung(a, a + 0x2000));
            assertTrue(vm.mmuNotifier().clearFlushYoung(a, a + 0x2000) == false, "already old");
            assertEquals(flushes, vm.stats().orElseThrow().remoteTlbFlush(), "aging does not flush");
            assertFalse(vm.mmuNotifier().testYoung(a));
            assertEquals(new Access.Value(1), cpu.read64(GPA));
            assertFalse(vm.mmuNotifier().testYoung(a), "a TLB hit does not set Accessed again");
            vm.mmu().flushRemoteTlbs();
            assertEquals(new Access.Value(1), cpu.read64(GPA));
            assertTrue(vm.mmuNotifier().testYoung(a), "the walk after a flush does (hardware A assist)");
        }
    }
}
