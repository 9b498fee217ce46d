package dev.guestmem.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.guestmem.Errno;
import dev.guestmem.host.HostMemory;
import dev.guestmem.host.Protection;
import dev.guestmem.memslot.MemslotFlags;
import dev.guestmem.vm.Access;
import dev.guestmem.vm.Taken;
import dev.guestmem.vm.Capability;
import dev.guestmem.vm.Vcpu;
import dev.guestmem.vm.VmType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * Guest loads and stores on real KVM, run by the CPL3 stub, decoded into the engine's {@link Access}
 * outcomes. Skipped without {@code /dev/kvm}.
 */
class KvmVcpuTest {
    private static final long SLOT_GPA = 0xC0000000L;
    private static final long SIZE = 0x10000;

    private HostMemory host;
    private KvmVm vm;
    private Vcpu vcpu;
    private long hva;

    @BeforeEach
    void createVm(TestInfo test) {
        KvmAssumptions.assumeKvm(getClass().getSimpleName() + "." + test.getDisplayName());
        host = new HostMemory();
        vm = new KvmVm(host, VmType.DEFAULT);
        vcpu = vm.vcpu(0);
        hva = host.mmap(SIZE);
        assertEquals(0, vm.setUserMemoryRegion(1, 0, SLOT_GPA, SIZE, hva));
    }

    @AfterEach
    void close() {
        if (vm != null) {
            vm.close();
        }
        if (host != null) {
            host.close();
        }
    }

    @Test
    void storeThenLoadRoundTripsThroughTheHostMapping() {
        assertEquals(Access.STORED, vcpu.write64(SLOT_GPA + 0x1008, 0x1122334455667788L));
        assertEquals(0x1122334455667788L, host.read64(hva + 0x1008), "the guest store is in host memory");
        host.write64(hva + 0x2000, -2);
        assertEquals(new Access.Value(-2), vcpu.read64(SLOT_GPA + 0x2000), "the host store is seen by the guest");
        assertEquals(new Access.Value(0x1122334455667788L), vcpu.read64(SLOT_GPA + 0x1008));
        assertEquals(new Access.Value(0), vcpu.read64(SLOT_GPA + 0x3000), "never-written memory reads 0");
    }

    @Test
    void aFillLoopStoresEveryStrideInOneRun() {
        assertEquals(Access.STORED, vcpu.fillStrided(SLOT_GPA + 8, 16, 0x1000, 0x55));
        for (long page = 0; page < 16; page++) {
            assertEquals(0x55, host.read64(hva + page * 0x1000 + 8), "page " + page);
        }
        assertEquals(0, host.read64(hva), "nothing between the strides");
    }

    @Test
    void aFillLoopStopsAtItsFirstExit() {
        // The slot ends at SLOT_GPA + SIZE: stores 0..7 land, store 8 exits, 9 and 10 never run.
        long from = SLOT_GPA + SIZE - 8 * 0x1000;
        assertEquals(new Access.Mmio(SLOT_GPA + SIZE, true), vcpu.fillStrided(from, 11, 0x1000, 9));
        assertEquals(9, host.read64(hva + SIZE - 0x1000));
        assertEquals(0, host.read64(hva), "below the loop");
        assertEquals(Access.STORED, vcpu.write64(SLOT_GPA, 1), "the vCPU goes on");
        assertEquals(0, host.munmap(hva, SIZE));
        assertEquals(new Access.Efault(SLOT_GPA + 0x2000), vcpu.fillStrided(SLOT_GPA + 0x2000, 2, 8, 1));
        assertThrows(IllegalArgumentException.class, () -> vcpu.fillStrided(SLOT_GPA, 2, 4, 1));
        assertThrows(IllegalArgumentException.class, () -> vcpu.fillStrided(0xFFC00000L, 2, 0x400000, 1),
                "across the reserved range");
    }

    @Test
    void aTakeLoopClearsMatchingWordsAndStopsAtTheFirstOther() {
        for (long page = 0; page < 8; page++) {
            host.write64(hva + page * 0x1000 + 0x800, page == 5 ? 1 : 7);
        }
        assertEquals(new Taken(5, null), vcpu.takeStrided(SLOT_GPA + 0x800, 8, 0x1000, 7));
        assertEquals(0, host.read64(hva + 0x4800), "taken");
        assertEquals(1, host.read64(hva + 0x5800), "the different word stays");
        assertEquals(7, host.read64(hva + 0x6800), "after the stop: untouched");
        host.write64(hva + 0x5800, 7);
        assertEquals(new Taken(3, null), vcpu.takeStrided(SLOT_GPA + 0x5800, 3, 0x1000, 7));
        // Past the slot's end the load exits as MMIO, which stops the loop.
        host.write64(hva + SIZE - 8, 7);
        assertEquals(new Taken(1, new Access.Mmio(SLOT_GPA + SIZE + 0xFF8, false)),
                vcpu.takeStrided(SLOT_GPA + SIZE - 8, 3, 0x1000, 7));
        assertEquals(0, host.read64(hva + SIZE - 8));
    }

    @Test
    void accessToNoSlotIsMmio() {
        assertEquals(new Access.Mmio(0xD0000000L, false), vcpu.read64(0xD0000000L));
        assertEquals(new Access.Mmio(0xD0000000L, true), vcpu.write64(0xD0000000L, 5));
        assertEquals(new Access.Mmio(SLOT_GPA + SIZE, false), vcpu.read64(SLOT_GPA + SIZE), "just past the slot");
        assertEquals(Access.STORED, vcpu.write64(SLOT_GPA, 7), "the vCPU goes on after MMIO exits");
    }

    @Test
    void storeToReadOnlySlotIsMmioAndLoadsWork() {
        long roHva = host.mmap(0x4000);
        host.write64(roHva, 0x1234);
        assertEquals(0, vm.setUserMemoryRegion(2, MemslotFlags.READONLY, 0x10000, 0x4000, roHva));
        assertEquals(new Access.Value(0x1234), vcpu.read64(0x10000));
        assertEquals(new Access.Mmio(0x10000, true), vcpu.write64(0x10000, 1));
        assertEquals(0x1234, host.read64(roHva), "the store did not reach memory");
    }

    @Test
    void unmappedBackingIsEfault() {
        assertEquals(Access.STORED, vcpu.write64(SLOT_GPA, 1));
        assertEquals(0, host.munmap(hva, SIZE));
        assertEquals(new Access.Efault(SLOT_GPA), vcpu.read64(SLOT_GPA));
        assertEquals(new Access.Efault(SLOT_GPA + 0x1000), vcpu.write64(SLOT_GPA + 0x1000, 2));
        assertEquals(new Access.Mmio(0xD0000000L, false), vcpu.read64(0xD0000000L), "and the vCPU still works");
    }

    @Test
    void protectionForbiddingTheAccessIsEfault() {
        assertEquals(0, host.mprotect(hva, SIZE, Protection.READ));
        assertEquals(new Access.Efault(SLOT_GPA), vcpu.write64(SLOT_GPA, 2));
        assertEquals(new Access.Value(0), vcpu.read64(SLOT_GPA));
    }

    @Test
    void guestWritesAreLoggedDirty() {
        assertEquals(0, vm.setUserMemoryRegion(1, MemslotFlags.LOG_DIRTY_PAGES, SLOT_GPA, SIZE, hva));
        assertEquals(Access.STORED, vcpu.write64(SLOT_GPA + 0x3000, 3));
        assertEquals(Access.STORED, vcpu.write64(SLOT_GPA + 0xF000, 4));
        long[] bitmap = new long[1];
        assertEquals(0, vm.getDirtyLog(1, bitmap));
        assertEquals(1L << 3 | 1L << 15, bitmap[0]);
    }

    /**
     * trace-format.md: a read fault maps a host-writable page writable, which under dirty logging logs
     * it; a never-written page maps the zero page read-only and logs nothing. On a shadow MMU this holds
     * only because the stub's page tables have D preset (with D clear, the first case logged nothing).
     */
    @Test
    void guestReadOfHostWrittenPageIsLoggedDirty() {
        assertEquals(0, vm.setUserMemoryRegion(1, MemslotFlags.LOG_DIRTY_PAGES, SLOT_GPA, SIZE, hva));
        assertEquals(new Access.Value(0), vcpu.read64(SLOT_GPA));
        host.write64(hva + 0x1000, 5);
        assertEquals(new Access.Value(5), vcpu.read64(SLOT_GPA + 0x1000));
        long[] bitmap = new long[1];
        assertEquals(0, vm.getDirtyLog(1, bitmap));
        assertEquals(1L << 1, bitmap[0]);
    }

    @Test
    void reservedSlotAppearsOnlyWithTheFirstAccess() {
        long other = host.mmap(0x1000);
        // Before any access the reserved range is free, as on a VM that never ran guest code...
        assertEquals(0, vm.setUserMemoryRegion(9, 0, ReservedLayout.BASE, 0x1000, other));
        assertEquals(0, vm.setUserMemoryRegion(9, 0, 0, 0, 0));
        vcpu.read64(SLOT_GPA);
        // ...and taken once a guest access installed the guest code there.
        assertEquals(Errno.EEXIST, vm.setUserMemoryRegion(9, 0, ReservedLayout.BASE, 0x1000, other));
        assertEquals(Errno.EINVAL, vm.setUserMemoryRegion(ReservedLayout.SLOT, 0, 0x500000, 0x1000, other),
                "slot 32763 exists: a request of another size is a refused resize");
    }

    @Test
    void accessesOutsideTheIdentityMapAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> vcpu.read64(0x100000000L));
        assertThrows(IllegalArgumentException.class, () -> vcpu.write64(ReservedLayout.DOORBELL, 1));
        assertThrows(IllegalArgumentException.class, () -> vcpu.read64(ReservedLayout.BASE + 0x2000));
        assertThrows(IllegalArgumentException.class, () -> vcpu.read64(SLOT_GPA + 4));
    }

    @Test
    @SuppressWarnings("restricted") // reads the guest_memfd mapping the VM just made, of that size
    void guestMemfdOnlySlotIsServedFromTheFile() {
        int fd = vm.createGuestMemfd(0x4000, 3); // MMAP | INIT_SHARED: the slot becomes gmem-only
        long mapped = vm.mmap(fd, 0x4000, true);
        MemorySegment file = MemorySegment.ofAddress(mapped).reinterpret(0x4000);
        file.set(ValueLayout.JAVA_LONG, 0x2000, 0x3333);
        assertEquals(0, vm.setUserMemoryRegion2(2, MemslotFlags.GUEST_MEMFD, 0x40000000L, 0x2000, 0, fd, 0x2000));
        assertEquals(new Access.Value(0x3333), vcpu.read64(0x40000000L));
        assertEquals(Access.STORED, vcpu.write64(0x40001000L, 0x4444));
        assertEquals(0x4444, file.get(ValueLayout.JAVA_LONG, 0x3000), "the store is in the file");
    }

    @Test
    void gmemOnlySlotWhoseFileIsGoneIsSharedMemoryFault() {
        int fd = vm.createGuestMemfd(0x4000, 3);
        assertEquals(0, vm.setUserMemoryRegion2(2, MemslotFlags.GUEST_MEMFD, 0x60000000L, 0x4000, 0, fd, 0));
        assertEquals(new Access.Value(0), vcpu.read64(0x60000000L));
        assertEquals(0, vm.close(fd)); // the last reference: the file is released and unbound
        assertEquals(new Access.MemoryFault(0x60001000L, 0x1000, false), vcpu.write64(0x60001000L, 1));
        assertEquals(new Access.MemoryFault(0x60000000L, 0x1000, false), vcpu.read64(0x60000000L));
    }

    @Test
    void guestMemfdSlotWithoutMmapIsEfaultOnTheDefaultVm() {
        int fd = vm.createGuestMemfd(0x4000, 0);
        assertEquals(0, vm.setUserMemoryRegion2(4, MemslotFlags.GUEST_MEMFD, 0x50000000L, 0x4000, 0, fd, 0));
        // Not gmem-only and never private here: the shared path through userspace_addr 0 fails.
        assertEquals(new Access.Efault(0x50000000L), vcpu.read64(0x50000000L));
    }

    @Test
    void privateGpaWithoutGuestMemfdIsPrivateMemoryFault() {
        boolean supported = (vm.checkExtension(Capability.VM_TYPES) & 1L << VmType.SW_PROTECTED.number()) != 0;
        if (!supported) {
            System.out.println("KvmVcpuTest.privateGpaWithoutGuestMemfdIsPrivateMemoryFault skipped:"
                    + " KVM_CAP_VM_TYPES lacks KVM_X86_SW_PROTECTED_VM on this kernel");
        }
        assumeTrue(supported, "KVM_X86_SW_PROTECTED_VM not supported");
        vm.close();
        vm = new KvmVm(host, VmType.SW_PROTECTED);
        vcpu = vm.vcpu(0);
        assertEquals(0, vm.setUserMemoryRegion(1, 0, SLOT_GPA, SIZE, hva));
        assertEquals(Access.STORED, vcpu.write64(SLOT_GPA, 1), "shared by default");
        assertEquals(0, vm.setMemoryAttributes(SLOT_GPA, 0x1000, 1L << 3, 0));
        assertEquals(new Access.MemoryFault(SLOT_GPA, 0x1000, true), vcpu.read64(SLOT_GPA));
    }
}
