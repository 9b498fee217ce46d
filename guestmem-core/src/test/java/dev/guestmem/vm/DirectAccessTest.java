package dev.guestmem.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.guestmem.host.Advice;
import dev.guestmem.host.Protection;
import dev.guestmem.memslot.MemslotFlags;
import dev.guestmem.memslot.MemslotImpl;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Guest accesses through the direct gpa → slot → hva path: values, MMIO exits and EFAULT. */
class DirectAccessTest {
    private static final long GPA = 0xC0000000L;

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void guestAndHostShareTheMemoryOfAliasingSlots(MemslotImpl impl) {
        try (EngineVm vm = EngineVm.create(VmType.DEFAULT, impl)) {
            long a = vm.host().mmap(0x200000);
            Vcpu cpu = vm.vcpu(0);
            assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA, 0x200000, a));
            assertEquals(0, vm.setUserMemoryRegion(2, 0, GPA + 0x400000, 0x1000, a + 0x1000));
            assertEquals(Access.STORED, cpu.write64(GPA + 0x1008, 0x1122));
            assertEquals(new Access.Value(0x1122), cpu.read64(GPA + 0x400008), "the alias sees the same page");
            assertEquals(0x1122, vm.host().read64(a + 0x1008));
            vm.host().write64(a + 0x10, 7);
            assertEquals(new Access.Value(7), cpu.read64(GPA + 0x10));
            assertEquals(new Access.Mmio(GPA + 0x200000, false), cpu.read64(GPA + 0x200000));
        }
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void readOnlySlotWritesExitAsMmio(MemslotImpl impl) {
        try (EngineVm vm = EngineVm.create(VmType.DEFAULT, impl)) {
            long a = vm.host().mmap(0x4000);
            vm.host().write64(a, 0x1234);
            assertEquals(0, vm.setUserMemoryRegion(2, MemslotFlags.READONLY, 0x10000, 0x4000, a));
            assertEquals(new Access.Value(0x1234), vm.vcpu(0).read64(0x10000));
            assertEquals(new Access.Mmio(0x10000, true), vm.vcpu(0).write64(0x10000, 1));
            assertEquals(0x1234, vm.host().read64(a));
        }
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void hostChangesUnderASlot(MemslotImpl impl) {
        try (EngineVm vm = EngineVm.create(VmType.DEFAULT, impl)) {
            long a = vm.host().mmap(0x10000);
            Vcpu cpu = vm.vcpu(0);
            assertEquals(0, vm.setUserMemoryRegion(1, 0, 0x100000, 0x10000, a));
            assertEquals(Access.STORED, cpu.write64(0x101000, 5));
            assertEquals(0, vm.host().madvise(a + 0x1000, 0x1000, Advice.DONTNEED));
            assertEquals(new Access.Value(0), cpu.read64(0x101000), "a discarded page reads zero");
            assertEquals(0, vm.host().mprotect(a, 0x10000, Protection.READ));
            assertEquals(new Access.Efault(0x100000), cpu.write64(0x100000, 2));
            assertEquals(new Access.Value(0), cpu.read64(0x100000));
            assertEquals(0, vm.host().mprotect(a, 0x10000, Protection.NONE));
            assertEquals(new Access.Efault(0x100000), cpu.read64(0x100000));
            assertEquals(0, vm.host().munmap(a, 0x10000));
            assertEquals(new Access.Efault(0x100000), cpu.read64(0x100000), "the slot outlives its mapping");
            assertEquals(0, vm.setUserMemoryRegion(2, 0, 0x200000, 0x1000, 0x7fffffffe000L));
            assertEquals(new Access.Efault(0x200000), cpu.read64(0x200000), "a never-mapped hva");
        }
    }
}
