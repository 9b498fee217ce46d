package dev.guestmem.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.Errno;
import dev.guestmem.memslot.MemslotImpl;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * SMR-03: every user slot id can hold a 2 MiB slot of one big {@code MAP_NORESERVE} mapping, and one
 * more slot is refused because the id is out of range, not because of capacity.
 */
class FillAllSlotsTest {
    private static final long MB2 = 2L << 20;

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void everyUserSlotThenOneMore(MemslotImpl impl) {
        try (EngineVm vm = EngineVm.create(VmType.DEFAULT, impl)) {
            int n = (int) vm.checkExtension(Capability.NR_MEMSLOTS);
            assertEquals(32764, n);
            long base = vm.host().mmap(n * MB2);
            assertTrue(base > 0, "64 GiB MAP_NORESERVE mapping");
            for (int s = 0; s < n; s++) {
                assertEquals(0, vm.setUserMemoryRegion(s, 0, s * MB2, MB2, base + s * MB2), "slot " + s);
            }
            long extra = vm.host().mmap(MB2);
            assertEquals(Errno.EINVAL, vm.setUserMemoryRegion(n, 0, n * MB2, MB2, extra));
            // The last slot really is backed by the last 2 MiB of the big mapping.
            long lastGpa = (n - 1) * MB2 + MB2 - 8;
            assertEquals(Access.STORED, vm.vcpu(0).write64(lastGpa, 0x5a5a));
            assertEquals(0x5a5a, vm.host().read64(base + n * MB2 - 8));
        }
    }
}
