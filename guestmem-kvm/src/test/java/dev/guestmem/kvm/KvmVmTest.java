package dev.guestmem.kvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.Errno;
import dev.guestmem.host.Advice;
import dev.guestmem.host.HostMemory;
import dev.guestmem.host.Syscall;
import dev.guestmem.memslot.KvmLimits;
import dev.guestmem.memslot.MemslotFlags;
import dev.guestmem.vm.Capability;
import dev.guestmem.vm.Quirks;
import dev.guestmem.vm.SlotInfo;
import dev.guestmem.vm.VmType;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * VM ioctls on real KVM answer with the kernel's errno, mirroring a few memslot rules the engine
 * implements (spec §1.1), plus the calls the engine will adopt later. Skipped without {@code /dev/kvm}.
 */
class KvmVmTest {
    private static final long MIB = 1 << 20;

    private HostMemory host;
    private KvmVm vm;
    private long hva;

    @BeforeEach
    void createVm(TestInfo test) {
        KvmAssumptions.assumeKvm(getClass().getSimpleName() + "." + test.getDisplayName());
        host = new HostMemory();
        vm = new KvmVm(host, VmType.DEFAULT);
        hva = host.mmap(2 * MIB);
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

    /** What {@link dev.guestmem.vm.Quirks} models, on the real kernel. */
    @Test
    void slotZapAllCanBeDisabledAndUnsupportedQuirkBitsAreRefused() {
        assertEquals(1, vm.checkExtension(Capability.DISABLE_QUIRKS));
        long supported = vm.checkExtension(Capability.DISABLE_QUIRKS2);
        assertTrue((supported & Quirks.SLOT_ZAP_ALL) != 0, "supported quirks 0x" + Long.toHexString(supported));
        assertEquals(Errno.EINVAL, vm.enableCap(Capability.DISABLE_QUIRKS2, 1L << 62));
        assertEquals(0, vm.enableCap(Capability.DISABLE_QUIRKS, 1L << 62), "v1 ignores unknown bits");
        assertEquals(0, vm.enableCap(Capability.DISABLE_QUIRKS2, Quirks.SLOT_ZAP_ALL));
    }

    @Test
    void capabilitiesComeFromTheKernel() {
        assertEquals(KvmLimits.USER_MEM_SLOTS, vm.checkExtension(Capability.NR_MEMSLOTS));
        assertEquals(1, vm.checkExtension(Capability.USER_MEMORY));
        assertEquals(1, vm.checkExtension(Capability.VM_TYPES) & 1 << VmType.DEFAULT.number(), "VM_TYPES has DEFAULT");
    }

    /** The kernel's address-space count, not the engine's: these machines report none beyond as_id 0. */
    @Test
    void addressSpaceBeyondTheKernelsCountIsEinval() {
        long spaces = Math.max(1, vm.checkExtension(Capability.MULTI_ADDRESS_SPACE));
        int slot = (int) spaces << 16 | 4;
        assertEquals(Errno.EINVAL, vm.setUserMemoryRegion(slot, 0, 0x200000, 0x4000, hva));
        assertEquals(Optional.empty(), vm.slot(slot));
        assertEquals(0, vm.setUserMemoryRegion((int) (spaces - 1) << 16 | 4, 0, 0x200000, 0x4000, hva));
    }

    @Test
    void overlappingSlotIsEexist() {
        assertEquals(0, vm.setUserMemoryRegion(1, 0, 0xC0000000L, MIB, hva));
        assertEquals(Errno.EEXIST, vm.setUserMemoryRegion(2, 0, 0xC0000000L + MIB - 0x1000, 0x2000, hva));
        assertEquals(0, vm.setUserMemoryRegion(2, 0, 0xC0000000L + MIB, 0x1000, hva));
    }

    @Test
    void misalignedArgumentsAreEinval() {
        assertEquals(Errno.EINVAL, vm.setUserMemoryRegion(1, 0, 0x1001, 0x1000, hva));
        assertEquals(Errno.EINVAL, vm.setUserMemoryRegion(1, 0, 0, 0x1001, hva));
        assertEquals(Errno.EINVAL, vm.setUserMemoryRegion(1, 0, 0, 0x1000, hva + 1));
        assertEquals(Errno.EINVAL, vm.setUserMemoryRegion(1, MemslotFlags.GUEST_MEMFD, 0, 0x1000, hva));
        assertEquals(Optional.empty(), vm.slot(1));
    }

    @Test
    void deletingMissingSlotIsEinval() {
        assertEquals(Errno.EINVAL, vm.setUserMemoryRegion(3, 0, 0, 0, 0));
        assertEquals(0, vm.setUserMemoryRegion(3, 0, 0x100000, 0x1000, hva));
        assertEquals(0, vm.setUserMemoryRegion(3, 0, 0x100000, 0, hva));
        assertEquals(Errno.EINVAL, vm.setUserMemoryRegion(3, 0, 0x100000, 0, hva));
    }

    @Test
    void slotMirrorFollowsAcceptedCallsOnly() {
        assertEquals(0, vm.setUserMemoryRegion(4, 0, 0x200000, 0x4000, hva));
        assertEquals(Optional.of(new SlotInfo(0, 4, 0x200, 4, 0, hva, 0)), vm.slot(4));
        assertEquals(Errno.EINVAL, vm.setUserMemoryRegion(4, 0, 0x200000, 0x8000, hva)); // resize refused
        assertEquals(0, vm.setUserMemoryRegion(4, MemslotFlags.LOG_DIRTY_PAGES, 0x300000, 0x4000, hva)); // move
        assertEquals(Optional.of(new SlotInfo(0, 4, 0x300, 4, MemslotFlags.LOG_DIRTY_PAGES, hva, 0)), vm.slot(4));
        assertEquals(0, vm.setUserMemoryRegion(4, 0, 0, 0, 0));
        assertEquals(Optional.empty(), vm.slot(4));
        assertEquals(-1, vm.memslotGeneration(0));
    }

    @Test
    void dirtyLogReportsGuestlessSlotsAsKernelDoes() {
        assertEquals(0, vm.setUserMemoryRegion(5, 0, 0x40000000L, MIB, hva));
        long[] bitmap = new long[4];
        assertEquals(Errno.ENOENT, vm.getDirtyLog(5, bitmap));
        assertEquals(0, vm.setUserMemoryRegion(5, MemslotFlags.LOG_DIRTY_PAGES, 0x40000000L, MIB, hva));
        bitmap[0] = -1;
        assertEquals(0, vm.getDirtyLog(5, bitmap));
        assertArrayEquals(new long[4], bitmap, "a fresh bitmap is clean and overwrites the buffer");
        assertEquals(Errno.EINVAL, vm.getDirtyLog(40000, bitmap));
    }

    @Test
    void manualProtectAndClearFollowTheSixtyFourPageRules() {
        assertEquals(Errno.EINVAL, vm.enableCap(Capability.MANUAL_DIRTY_LOG_PROTECT2, 2));
        assertEquals(0, vm.enableCap(Capability.MANUAL_DIRTY_LOG_PROTECT2, 3));
        assertEquals(0, vm.setUserMemoryRegion(7, MemslotFlags.LOG_DIRTY_PAGES, 0x80000000L, 196 * 0x1000, hva));
        long[] bitmap = new long[4];
        assertEquals(0, vm.getDirtyLog(7, bitmap));
        assertEquals(196, Long.bitCount(bitmap[0]) + Long.bitCount(bitmap[1]) + Long.bitCount(bitmap[2])
                + Long.bitCount(bitmap[3]), "INITIALLY_SET: every page starts dirty");
        assertEquals(Errno.EINVAL, vm.clearDirtyLog(7, 1, 64, new long[] {-1}));
        assertEquals(0, vm.clearDirtyLog(7, 0, 128, new long[] {-1, -1}));
        assertEquals(0, vm.getDirtyLog(7, bitmap));
        assertArrayEquals(new long[] {0, 0, -1, 0xF}, bitmap);
    }

    @Test
    void guestMemfdLifecycle() {
        int fd = vm.createGuestMemfd(0x4000, 0);
        assertTrue(fd >= 0, "fd " + fd);
        assertEquals(-Errno.EINVAL, vm.createGuestMemfd(0x1001, 0));
        assertEquals(0x4000, vm.fstat(fd));
        assertEquals(0, vm.fallocate(fd, 1, 0, 0x4000));
        assertEquals(Errno.EOPNOTSUPP, vm.fallocate(fd, 0, 0, 0x1000));
        assertEquals(-Errno.ENODEV, vm.mmap(fd, 0x4000, true), "no GUEST_MEMFD_FLAG_MMAP");
        assertEquals(0, vm.setUserMemoryRegion2(1, MemslotFlags.GUEST_MEMFD, 0x100000000L, 0x2000, 0, fd, 0x2000));
        assertEquals(Optional.of(new SlotInfo(0, 1, 0x100000, 2, MemslotFlags.GUEST_MEMFD, 0, 2)), vm.slot(1));
        assertEquals(0, vm.close(fd));
        assertEquals(Errno.EBADF, vm.close(fd));
        assertEquals(-Errno.EBADF, vm.fstat(fd));
    }

    @Test
    void mappableGuestMemfdIsSharedWithTheHost() {
        int fd = vm.createGuestMemfd(0x4000, 3); // MMAP | INIT_SHARED
        assertTrue(fd >= 0, "fd " + fd);
        assertEquals(-Errno.EINVAL, vm.mmap(fd, 0x4000, false), "guest_memfd mappings must be shared");
        long mapped = vm.mmap(fd, 0x4000, true);
        assertTrue(mapped > 0, "hva " + mapped);
    }

    /**
     * GMF-08 refereed: the real kernel refuses {@code MADV_COLLAPSE} on a guest_memfd mapping with EINVAL,
     * which is what {@link HostMemory#madvise} answers for every file mapping without asking the kernel.
     */
    @Test
    void theKernelRefusesToCollapseAGuestMemfdMapping() throws Throwable {
        long pmd = 2L << 20;
        int fd = vm.createGuestMemfd(pmd, 3); // MMAP | INIT_SHARED
        long mapped = vm.mmap(fd, pmd, true);
        assertTrue(mapped > 0, "hva " + mapped);
        assertEquals(0, host.read64(mapped));
        assertEquals(0, host.madvise(mapped, pmd, Advice.HUGEPAGE));
        MethodHandle madvise = Syscall.downcall("madvise", FunctionDescriptor.of(ValueLayout.JAVA_INT,
                ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
        long rc = Syscall.call("madvise", (errno, arena) ->
                (int) madvise.invokeExact(errno, mapped, pmd, Advice.COLLAPSE.value()));
        assertEquals(-Errno.EINVAL, rc, "the kernel's answer");
        assertEquals(Errno.EINVAL, host.madvise(mapped, pmd, Advice.COLLAPSE), "the engine's host layer");
        assertEquals(0, host.madvise(mapped, pmd, Advice.DONTNEED));
        assertEquals(0, host.read64(mapped));
    }

    @Test
    void closedVmAnswersEio() {
        vm.close();
        assertEquals(Errno.EIO, vm.setUserMemoryRegion(1, 0, 0, 0x1000, hva));
        assertEquals(-Errno.EIO, vm.createGuestMemfd(0x1000, 0));
        assertEquals(Errno.EIO, vm.enableCap(Capability.MANUAL_DIRTY_LOG_PROTECT2, 1));
    }
}
