package dev.guestmem.gmem;

import static dev.guestmem.gmem.MemoryAttributes.PRIVATE;
import static dev.guestmem.memslot.KvmLimits.PAGE_SIZE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.Errno;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.vm.Capability;
import dev.guestmem.vm.EngineVm;
import dev.guestmem.vm.VmType;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code KVM_SET_MEMORY_ATTRIBUTES}, the kernel-derived rules KMA-01..04 ({@code kernel-selftests.md}
 * §A.5): the checks and their order, per-gfn VM-wide storage without memslots, the no-op rule, and the
 * invalidation window around every real change.
 */
class MemoryAttributesTest {
    private static final long GPA = 0xC0000000L;
    private static final long GFN = GPA / PAGE_SIZE;

    /** Every invalidation requested, as {@code [start, end)} gfn pairs; the change runs inside it. */
    private final List<long[]> windows = new ArrayList<>();
    private final GfnRangeInvalidation recording = (start, end, change) -> {
        windows.add(new long[] {start, end});
        change.run();
        return true;
    };
    private final List<EngineVm> vms = new ArrayList<>();

    @AfterEach
    void tearDown() {
        vms.forEach(EngineVm::close);
    }

    private EngineVm vm(VmType type) {
        EngineVm vm = EngineVm.create(type, MemslotImpl.TREE);
        vms.add(vm);
        return vm;
    }

    @Test
    void kma01FlagsMustBeZeroAndAreCheckedFirst() {
        MemoryAttributes attrs = new MemoryAttributes(true);
        assertEquals(Errno.EINVAL, attrs.set(GPA, PAGE_SIZE, PRIVATE, 1, recording));
        assertEquals(Errno.EINVAL, attrs.set(GPA, PAGE_SIZE, PRIVATE, 1L << 63, recording));
        assertEquals(0, attrs.get(GFN));
        assertTrue(windows.isEmpty());
    }

    @Test
    void kma02OnlyPrivateAndOnlyOnVmsWithPrivateMemory() {
        MemoryAttributes protectedVm = new MemoryAttributes(true);
        MemoryAttributes defaultVm = new MemoryAttributes(false);
        assertEquals(PRIVATE, protectedVm.supported());
        assertEquals(0, defaultVm.supported());
        assertEquals(Errno.EINVAL, defaultVm.set(GPA, PAGE_SIZE, PRIVATE, 0, recording));
        assertEquals(Errno.EINVAL, protectedVm.set(GPA, PAGE_SIZE, 1, 0, recording));
        assertEquals(Errno.EINVAL, protectedVm.set(GPA, PAGE_SIZE, PRIVATE | 1L << 4, 0, recording));
        assertEquals(0, defaultVm.set(GPA, PAGE_SIZE, 0, 0, recording), "0 is always supported (a no-op here)");
        assertEquals(0, protectedVm.set(GPA, PAGE_SIZE, PRIVATE, 0, recording));
        assertTrue(protectedVm.isPrivate(GFN));
    }

    @Test
    void kma02ThroughTheVmAndItsCapability() {
        EngineVm plain = vm(VmType.DEFAULT);
        EngineVm sw = vm(VmType.SW_PROTECTED);
        assertEquals(0, plain.checkExtension(Capability.MEMORY_ATTRIBUTES));
        assertEquals(PRIVATE, sw.checkExtension(Capability.MEMORY_ATTRIBUTES));
        assertEquals(Errno.EINVAL, plain.setMemoryAttributes(GPA, PAGE_SIZE, PRIVATE, 0));
        assertEquals(0, sw.setMemoryAttributes(GPA, PAGE_SIZE, PRIVATE, 0));
        assertEquals(PRIVATE, sw.memoryAttributes(GFN));
    }

    @Test
    void kma03EmptyWrappingOrMisalignedRangesAreRefused() {
        MemoryAttributes attrs = new MemoryAttributes(true);
        assertEquals(Errno.EINVAL, attrs.set(GPA, 0, PRIVATE, 0, recording), "size 0");
        assertEquals(Errno.EINVAL, attrs.set(-PAGE_SIZE, 2 * PAGE_SIZE, PRIVATE, 0, recording), "wraps");
        assertEquals(Errno.EINVAL, attrs.set(GPA + 1, PAGE_SIZE, PRIVATE, 0, recording), "address");
        assertEquals(Errno.EINVAL, attrs.set(GPA, PAGE_SIZE + 8, PRIVATE, 0, recording), "size");
        assertEquals(Errno.EINVAL, attrs.set(GPA + 8, 0, PRIVATE, 0, recording), "size 0 and misaligned");
        assertEquals(Errno.EINVAL, attrs.set(-PAGE_SIZE, PAGE_SIZE, PRIVATE, 0, recording),
                "ending exactly at 2^64 is a wrap too: address + size is 0");
        assertEquals(0, attrs.set(-2 * PAGE_SIZE, PAGE_SIZE, PRIVATE, 0, recording), "the last page but one");
        assertTrue(attrs.isPrivate((-1L >>> 12) - 1));
        assertEquals(1, windows.size());
    }

    @Test
    void kma04PerGfnWithoutAnyMemslotAndZeroErases() {
        MemoryAttributes attrs = new MemoryAttributes(true);
        assertEquals(0, attrs.set(GPA, 4 * PAGE_SIZE, PRIVATE, 0, recording));
        assertEquals(0, attrs.get(GFN - 1));
        for (long g = GFN; g < GFN + 4; g++) {
            assertTrue(attrs.isPrivate(g));
        }
        assertEquals(0, attrs.get(GFN + 4));
        assertEquals(0, attrs.set(GPA + PAGE_SIZE, PAGE_SIZE, 0, 0, recording));
        assertFalse(attrs.isPrivate(GFN + 1));
        assertTrue(attrs.isPrivate(GFN) && attrs.isPrivate(GFN + 2));
        assertEquals(2, attrs.rangeCount(), "the erased gfn split the range");
        assertEquals(0, attrs.set(GPA + PAGE_SIZE, PAGE_SIZE, PRIVATE, 0, recording));
        assertEquals(1, attrs.rangeCount(), "and filling it merges it again");
    }

    @Test
    void kma04AnUnchangedRangeIsANoOpWithoutInvalidation() {
        MemoryAttributes attrs = new MemoryAttributes(true);
        assertEquals(0, attrs.set(GPA, 2 * PAGE_SIZE, 0, 0, recording));
        assertTrue(windows.isEmpty(), "shared already: nothing to do");
        assertEquals(0, attrs.set(GPA, 2 * PAGE_SIZE, PRIVATE, 0, recording));
        assertEquals(1, windows.size());
        assertEquals(GFN, windows.get(0)[0]);
        assertEquals(GFN + 2, windows.get(0)[1]);
        assertEquals(0, attrs.set(GPA, 2 * PAGE_SIZE, PRIVATE, 0, recording));
        assertEquals(1, windows.size(), "the same value twice: no second invalidation");
        assertEquals(0, attrs.set(GPA, 3 * PAGE_SIZE, PRIVATE, 0, recording));
        assertEquals(2, windows.size(), "one more gfn differs: the whole range is invalidated");
        assertEquals(GFN + 3, windows.get(1)[1]);
    }

    @Test
    void kma04TheValueIsStoredInsideTheInvalidationWindow() {
        MemoryAttributes attrs = new MemoryAttributes(true);
        List<Boolean> seenInside = new ArrayList<>();
        attrs.set(GPA, PAGE_SIZE, PRIVATE, 0, (start, end, change) -> {
            seenInside.add(attrs.isPrivate(GFN));
            change.run();
            seenInside.add(attrs.isPrivate(GFN));
            return true;
        });
        assertEquals(List.of(false, true), seenInside);
    }

    @Test
    void kma04AttributesOutliveTheMemslot() {
        EngineVm vm = vm(VmType.SW_PROTECTED);
        long hva = vm.host().mmap(PAGE_SIZE);
        assertEquals(0, vm.setUserMemoryRegion(10, 0, GPA, PAGE_SIZE, hva));
        assertEquals(0, vm.setMemoryAttributes(GPA, PAGE_SIZE, PRIVATE, 0));
        assertEquals(0, vm.setUserMemoryRegion(10, 0, GPA, 0, hva));
        assertEquals(PRIVATE, vm.memoryAttributes(GFN));
    }

    @Test
    void rangeHasFollowsTheKernelsMaskRules() {
        MemoryAttributes attrs = new MemoryAttributes(true);
        attrs.set(GPA, 2 * PAGE_SIZE, PRIVATE, 0, recording);
        assertTrue(attrs.rangeHas(GFN, GFN + 2, -1L, PRIVATE));
        assertFalse(attrs.rangeHas(GFN, GFN + 3, -1L, PRIVATE));
        assertFalse(attrs.rangeHas(GFN, GFN + 2, -1L, 0), "0: true only where nothing is set");
        assertTrue(attrs.rangeHas(GFN + 2, GFN + 10, -1L, 0));
        assertFalse(attrs.rangeHas(GFN, GFN + 2, 0, PRIVATE), "asked for bits outside the mask");
        assertFalse(attrs.rangeHas(GFN, GFN + 1, -1L, 1), "unsupported bits are masked away first");
    }

    @Test
    void aMillionPrivatePagesAreOneEntry() {
        MemoryAttributes attrs = new MemoryAttributes(true);
        assertEquals(0, attrs.set(1L << 32, 1L << 32, PRIVATE, 0, recording));
        assertEquals(1, attrs.rangeCount());
        assertTrue(attrs.isPrivate((1L << 20) + (1L << 19)));
    }
}
