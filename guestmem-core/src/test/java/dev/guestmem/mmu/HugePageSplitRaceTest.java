package dev.guestmem.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.host.Advice;
import dev.guestmem.host.Protection;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.vm.Access;
import dev.guestmem.vm.EngineVm;
import dev.guestmem.vm.Vcpu;
import dev.guestmem.vm.VmConfig;
import dev.guestmem.vm.VmType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A fault that maps a 2 MiB frame races with an {@code mprotect} of one other 4 KiB page of that frame
 * (mmu.md §2.3, §8.5 I10). The kernel splits the transparent huge page first, which invalidates the whole
 * block, so the fault's own gfn is inside the invalidation window and it retries. Were only the 4 KiB
 * page announced, the fault would install a writable 2 MiB leaf over a page that is becoming read-only:
 * a guest store there would hit a protected host page.
 */
class HugePageSplitRaceTest {
    private static final long GPA = 0xC0000000L;
    private static final long MB2 = 0x200000;
    private static final Duration JOIN = Duration.ofSeconds(20);

    @Test
    void aFaultMappingTheFrameRetriesWhileAnotherPageOfItIsProtected() throws Exception {
        Checkpoints points = new Checkpoints();
        VmConfig config = VmConfig.of(VmType.DEFAULT, MemslotImpl.TREE)
                .withMmu(MmuOptions.DEFAULT.withInterleaver(points));
        try (EngineVm vm = EngineVm.create(config)) {
            long raw = vm.host().mmap(2 * MB2);
            long a = (raw + MB2 - 1) & -MB2;
            assertEquals(0, vm.host().madvise(a, MB2, Advice.HUGEPAGE));
            assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA, MB2, a));
            HeldInvalidation hold = new HeldInvalidation();
            vm.host().addInvalidationListener(hold); // after the VM's notifier: runs once the MMU's start returned
            Vcpu cpu = vm.vcpu(0);

            // The write fault on page 0 resolves the whole frame writable and stops before the MMU lock.
            AtomicReference<Access> store = new AtomicReference<>();
            List<Thread> faulting = new ArrayList<>();
            CountDownLatch armed = new CountDownLatch(1);
            Thread vcpu = Thread.ofPlatform().unstarted(() -> {
                Latches.await(armed);
                store.set(cpu.write64(GPA, 1));
            });
            faulting.add(vcpu);
            Checkpoints.Gate beforeLock = points.arm("fault.beforeLock", vcpu);
            vcpu.start();
            armed.countDown();
            beforeLock.awaitArrival();

            // The host protects page 1 and is held inside its invalidation; then the fault goes on.
            Thread protect = Thread.ofPlatform().start(
                    () -> assertEquals(0, vm.host().mprotect(a + 0x1000, 0x1000, Protection.READ)));
            hold.awaitInside();
            long retriesBefore = cpu.stats().orElseThrow().pfRetry();
            beforeLock.release();
            while (cpu.stats().orElseThrow().pfRetry() == retriesBefore && vcpu.isAlive()) {
                Thread.onSpinWait();
            }
            boolean[] writableOverPage1 = new boolean[1];
            vm.mmu().forEachLeaf((gfn, level, spte) -> {
                long first = gfn;
                long last = gfn + PageLevel.pages(level);
                long page1 = (GPA >>> 12) + 1;
                writableOverPage1[0] |= page1 >= first && page1 < last && Spte.isWritable(spte);
            });
            hold.release();
            protect.join(JOIN);
            vcpu.join(JOIN);

            assertFalse(writableOverPage1[0], "a writable leaf over page 1 was installed during the split's invalidation");
            assertTrue(cpu.stats().orElseThrow().pfRetry() > retriesBefore, "the fault saw its gfn invalidated");
            assertEquals(Access.STORED, store.get(), "the retried store completes at 4 KiB");
            assertEquals(new Access.Efault(GPA + 0x1000), cpu.write64(GPA + 0x1000, 2), "page 1 is read-only now");
            assertEquals(List.of(), vm.mmu().invariants().violations());
        }
    }
}
