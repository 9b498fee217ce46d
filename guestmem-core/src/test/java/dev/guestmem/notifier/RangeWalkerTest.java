package dev.guestmem.notifier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.Errno;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.vm.EngineVm;
import dev.guestmem.vm.VmConfig;
import dev.guestmem.vm.VmType;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The one range walker (kvm-memory-spec §3.2, §3.6, §3.7): which slots it visits, the hva→gfn clamping
 * and rounding, on_lock once and only if a slot intersects, the lock flag, the flush, and the operator's
 * early stop with the handler's error.
 */
class RangeWalkerTest {
    private static final long GPA = 0xC0000000L;

    private final EngineVm vm = EngineVm.create(VmConfig.of(VmType.DEFAULT, MemslotImpl.TREE).withSmm());
    private final RangeWalker walker = vm.rangeWalker();
    private final List<String> seen = new ArrayList<>();

    @AfterEach
    void close() {
        vm.close();
    }

    private GfnRangeHandler recording(int result) {
        return r -> {
            seen.add(r.slot().asId() + ":" + r.slot().id() + " [" + Long.toHexString(r.start()) + ","
                    + Long.toHexString(r.end()) + ") locked=" + vm.mmu().lock().isWriteLockedByCurrentThread());
            return result;
        };
    }

    @Test
    void everyAliasInEveryAddressSpaceWithRoundedGfns() {
        long a = vm.host().mmap(0x10000);
        assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA, 0x10000, a));
        assertEquals(0, vm.setUserMemoryRegion(2, 0, GPA + 0x100000, 0x4000, a + 0x2000));
        assertEquals(0, vm.setUserMemoryRegion(1 << 16 | 3, 0, GPA, 0x10000, a), "SMM address space alias");
        assertEquals(0, vm.setUserMemoryRegion(4, 0, GPA + 0x200000, 0x1000, vm.host().mmap(0x1000)));
        int[] onLock = new int[1];
        WalkResult r = walker.walkHva(new RangeOp(a + 0x2800, a + 0x4001, recording(0), () -> onLock[0]++,
                false, true, true, 0));
        assertTrue(r.foundMemslot());
        assertEquals(1, onLock[0], "on_lock once, for the first slot");
        // hva start rounds down, end rounds up: [a+0x2800, a+0x4001) touches guest pages 2, 3 and 4.
        assertEquals(List.of("0:1 [c0002,c0005) locked=true", "0:2 [c0100,c0103) locked=true",
                "1:3 [c0002,c0005) locked=true"), seen);
    }

    @Test
    void noIntersectingSlotMeansNoLockNoOnLockNoHandler() {
        long a = vm.host().mmap(0x2000);
        assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA, 0x1000, a));
        int[] onLock = new int[1];
        WalkResult r = walker.walkHva(new RangeOp(a + 0x1000, a + 0x2000, recording(1), () -> onLock[0]++,
                true, true, true, 0));
        assertEquals(new WalkResult(false, false, 0), r);
        assertEquals(0, onLock[0]);
        assertEquals(List.of(), seen);
    }

    @Test
    void testYoungStyleRangeCoversExactlyOneGfn() {
        long a = vm.host().mmap(0x4000);
        assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA, 0x4000, a));
        walker.walkHva(RangeOp.locked(a + 0x1008, a + 0x1009, recording(0), false));
        assertEquals(List.of("0:1 [c0001,c0002) locked=true"), seen);
    }

    @Test
    void theOperatorStopsAtTheFirstFailureAndReturnsItsError() {
        long a = vm.host().mmap(0x2000);
        assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA, 0x2000, a));
        assertEquals(0, vm.setUserMemoryRegion(2, 0, GPA + 0x10000, 0x2000, a));
        assertEquals(0, vm.setUserMemoryRegion(3, 0, GPA + 0x20000, 0x2000, a));
        int[] calls = new int[1];
        int rc = walker.doHvaRangeOp(a, a + 0x2000, r -> ++calls[0] == 2 ? -Errno.EIO : 0, false);
        assertEquals(-Errno.EIO, rc);
        assertEquals(2, calls[0], "the third slot is never visited");
        assertEquals(0, walker.doHvaRangeOp(a, a + 0x2000, recording(0), false));
        assertTrue(seen.stream().allMatch(s -> s.endsWith("locked=false")), "SRCU only: " + seen);
        seen.clear();
        assertEquals(0, walker.doHvaRangeOp(a, a + 0x2000, recording(0), true));
        assertTrue(seen.stream().allMatch(s -> s.endsWith("locked=true")), "with the lock flag: " + seen);
        assertEquals(-Errno.EINVAL, walker.doHvaRangeOp(a, a, recording(0), false));
    }

    @Test
    void theGfnWalkClampsToEachSlotAndSkipsEmptyIntersections() {
        long a = vm.host().mmap(0x4000);
        assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA, 0x2000, a));
        assertEquals(0, vm.setUserMemoryRegion(2, 0, GPA + 0x3000, 0x1000, a + 0x2000));
        long g = GPA >>> 12;
        WalkResult r = walker.walkGfn(RangeOp.locked(g + 1, g + 10, recording(1), false));
        assertTrue(r.ret());
        assertEquals(List.of("0:1 [c0001,c0002) locked=true", "0:2 [c0003,c0004) locked=true"), seen);
        seen.clear();
        assertFalse(walker.walkGfn(RangeOp.locked(g + 2, g + 3, recording(1), false)).foundMemslot());
        assertEquals(-1, walker.walkGfn(RangeOp.locked(g, -1L, r2 -> -1, false)).error(), "unsigned end");
    }

    @Test
    void flushOnRetFlushesOnlyWhenAHandlerAsks() {
        long a = vm.host().mmap(0x1000);
        assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA, 0x1000, a));
        vm.vcpu(0);
        long before = vm.stats().orElseThrow().remoteTlbFlush();
        walker.walkHva(RangeOp.locked(a, a + 0x1000, r -> 0, true));
        assertEquals(before, vm.stats().orElseThrow().remoteTlbFlush());
        walker.walkHva(RangeOp.locked(a, a + 0x1000, r -> 1, true));
        assertEquals(before + 1, vm.stats().orElseThrow().remoteTlbFlush());
        walker.walkHva(RangeOp.locked(a, a + 0x1000, r -> 1, false));
        assertEquals(before + 1, vm.stats().orElseThrow().remoteTlbFlush());
    }
}
