package dev.guestmem.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.host.Advice;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.vcpu.VcpuThread;
import dev.guestmem.vm.Access;
import dev.guestmem.vm.EngineVm;
import dev.guestmem.vm.Vcpu;
import dev.guestmem.vm.VmType;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Page-table lifetime (mmu.md §6.4, §8.4 rules 6 and 7): a table replaced by a huge leaf while another
 * vCPU's paging-structure cache points at it is freed only after the flush and a grace period, and that
 * vCPU never walks it once freed (a freed table is poisoned and every access to it throws). Also the
 * MMIO generation wrap.
 */
class TableLifetimeTest {
    private static final long GPA = 0xC0000000L;
    private static final long MB2 = 0x200000;

    @Test
    void aHugeLeafReplacesATableThatIsFreedAfterFlushAndGracePeriod() throws Exception {
        try (EngineVm vm = EngineVm.create(VmType.DEFAULT, MemslotImpl.TREE)) {
            long raw = vm.host().mmap(2 * MB2);
            long a = (raw + MB2 - 1) & -MB2;
            assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA, MB2, a));
            Vcpu cpu0 = vm.vcpu(0);
            for (long off = 0; off < 16 * 0x1000; off += 0x1000) {
                assertEquals(Access.STORED, cpu0.write64(GPA + off, off + 1));
            }
            assertEquals(16, vm.stats().orElseThrow().pages4k());
            long tables = vm.mmu().liveTables();
            // vCPU 1 keeps reading through the level-1 table (its paging-structure cache holds it).
            CountDownLatch walking = new CountDownLatch(1);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong wrong = new AtomicLong();
            VcpuThread reader = VcpuThread.start(vm.vcpu(1), g -> {
                for (long i = 0; !stop.get(); i++) {
                    long off = (i % 16) * 0x1000;
                    if (g.read64(GPA + off) != off + 1) {
                        wrong.incrementAndGet();
                    }
                    walking.countDown();
                }
            });
            assertTrue(walking.await(20, TimeUnit.SECONDS));
            assertEquals(0, vm.host().madvise(a, MB2, Advice.HUGEPAGE));
            // A fault elsewhere in the frame now maps it huge, replacing the table under vCPU 1.
            assertEquals(new Access.Value(0), cpu0.read64(GPA + 0x100000));
            VmStats stats = vm.stats().orElseThrow();
            assertEquals(1, stats.pages2m());
            assertEquals(0, stats.pages4k());
            assertEquals(1, stats.mmuShadowZapped());
            assertEquals(tables - 1, vm.mmu().liveTables(), "freed after the flush and a grace period");
            Thread.sleep(5); // let the reader run on the huge leaf for a while
            stop.set(true);
            reader.join(Duration.ofSeconds(20));
            assertEquals(0, wrong.get());
            assertTrue(vm.vcpu(1).stats().orElseThrow().tlbFlush() >= 1, "vCPU 1 was made to flush");
            assertEquals(List.of(), vm.mmu().invariants().violations());
        }
    }

    @Test
    void aWrappedMmioGenerationDropsEveryMmioSpte() {
        try (EngineVm vm = EngineVm.create(VmType.DEFAULT, MemslotImpl.TREE)) {
            Vcpu cpu = vm.vcpu(0);
            assertEquals(new Access.Mmio(GPA, false), cpu.read64(GPA));
            int[] mmio = new int[1];
            vm.mmu().forEachLeaf((gfn, level, spte) -> mmio[0] += Spte.isMmio(spte) ? 1 : 0);
            assertEquals(1, mmio[0]);
            vm.mmu().memslotsUpdated(Spte.MMIO_GEN_MASK);
            vm.mmu().memslotsUpdated(Spte.MMIO_GEN_MASK + 1); // the low 19 bits wrap to 0
            mmio[0] = 0;
            vm.mmu().forEachLeaf((gfn, level, spte) -> mmio[0] += Spte.isMmio(spte) ? 1 : 0);
            assertEquals(0, mmio[0]);
        }
    }
}
