package dev.guestmem.vm;

import static dev.guestmem.Errno.EBADF;
import static dev.guestmem.Errno.EEXIST;
import static dev.guestmem.Errno.EINVAL;
import static dev.guestmem.Errno.EIO;
import static dev.guestmem.memslot.MemslotFlags.GUEST_MEMFD;
import static dev.guestmem.memslot.MemslotFlags.LOG_DIRTY_PAGES;
import static dev.guestmem.memslot.MemslotFlags.READONLY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.gmem.GuestMemfd;
import dev.guestmem.memslot.KvmLimits;
import dev.guestmem.memslot.MemslotFlags;
import dev.guestmem.memslot.MemslotImpl;
import java.util.List;
import java.util.Optional;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The kernel-derived memslot rules KMS-00..18 and the set_memory_region selftest cases SMR-02, SMR-04
 * and SMR-05 ({@code kernel-selftests.md} §A.1, §A.2), for both memslot designs. Every failing call is
 * also checked to leave the memslots exactly as they were.
 */
class SetMemoryRegionTest {
    private static final long MB2 = 2L << 20;
    private static final long GPA = 0xC0000000L;
    /** A page-aligned, never-mapped user address: argument checks only look at the number. */
    private static final long HVA = 0x7f0000000000L;

    private final java.util.ArrayList<EngineVm> vms = new java.util.ArrayList<>();

    private EngineVm vm(MemslotImpl impl) {
        return vm(impl, VmType.DEFAULT);
    }

    private EngineVm vm(MemslotImpl impl, VmType type) {
        return vm(VmConfig.of(type, impl));
    }

    private EngineVm vm(VmConfig config) {
        EngineVm vm = new EngineVm(null, new FileTable(), config);
        vms.add(vm);
        return vm;
    }

    @AfterEach
    void closeVms() {
        vms.forEach(EngineVm::close);
    }

    /** Everything userspace can observe of the memslots: every slot of every address space, and generations. */
    private static List<Object> snapshot(EngineVm vm) {
        var state = new java.util.ArrayList<Object>();
        int addressSpaces = (int) Math.max(1, vm.checkExtension(Capability.MULTI_ADDRESS_SPACE));
        for (int as = 0; as < addressSpaces; as++) {
            state.add(vm.memslotGeneration(as));
            for (int id = 0; id < KvmLimits.USER_MEM_SLOTS; id += id < 64 ? 1 : 997) {
                state.add(vm.slot(as << 16 | id));
            }
        }
        return state;
    }

    /** Asserts that {@code call} fails with {@code errno} and changes nothing. */
    private static void assertRejected(EngineVm vm, int errno, IntSupplier call) {
        assertRejected(vm, errno, call, "");
    }

    private static void assertRejected(EngineVm vm, int errno, IntSupplier call, String why) {
        List<Object> before = snapshot(vm);
        assertEquals(errno, call.getAsInt(), why);
        assertEquals(before, snapshot(vm), "a failed call must leave the memslots unchanged " + why);
    }

    private static int v1(EngineVm vm, int slot, int flags, long gpa, long size, long hva) {
        return vm.setUserMemoryRegion(slot, flags, gpa, size, hva);
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void kms00AndSmr02V1RejectsEveryFlagButLogAndReadOnly(MemslotImpl impl) {
        EngineVm vm = vm(impl);
        for (int bit = 2; bit < 32; bit++) {
            int flags = 1 << bit;
            assertRejected(vm, EINVAL, () -> v1(vm, 0, flags, 0, MB2, 0));
        }
        assertEquals(0, v1(vm, 0, LOG_DIRTY_PAGES | READONLY, 0, MB2, 0));
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void smr02V2RejectsUnsupportedFlagsAndLoggingGuestMemfd(MemslotImpl impl) {
        EngineVm vm = vm(impl, VmType.SW_PROTECTED);
        for (int bit = 3; bit < 32; bit++) {
            int flags = 1 << bit;
            assertRejected(vm, EINVAL, () -> vm.setUserMemoryRegion2(0, flags, 0, MB2, 0, 0, 0));
        }
        assertRejected(vm, EINVAL, () -> vm.setUserMemoryRegion2(0, LOG_DIRTY_PAGES | GUEST_MEMFD, 0, MB2, 0, 0, 0));
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void kms01SlotIdMustBeBelowUserMemSlots(MemslotImpl impl) {
        EngineVm vm = vm(impl);
        assertRejected(vm, EINVAL, () -> v1(vm, KvmLimits.USER_MEM_SLOTS, 0, 0, 4096, HVA));
        assertRejected(vm, EINVAL, () -> v1(vm, 1 << 16 | 0xFFFF, 0, 0, 4096, HVA));
        assertEquals(0, v1(vm, KvmLimits.USER_MEM_SLOTS - 1, 0, 0, 4096, HVA));
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void kms02FlagValidityIsCheckedOnDeleteToo(MemslotImpl impl) {
        EngineVm vm = vm(impl);
        assertEquals(0, v1(vm, 1, 0, GPA, MB2, HVA));
        assertRejected(vm, EINVAL, () -> vm.setUserMemoryRegion2(1, GUEST_MEMFD | READONLY, 0, 0, 0, -1, 0));
        assertRejected(vm, EINVAL, () -> vm.setUserMemoryRegion2(1, 1 << 16, 0, 0, 0, -1, 0));
        assertEquals(0, vm.setUserMemoryRegion2(1, GUEST_MEMFD, 0, 0, 0, -1, 0), "delete ignores the stale fd");
        assertTrue(vm.slot(1).isEmpty());
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void kms03To05AlignmentAndUserRange(MemslotImpl impl) {
        EngineVm vm = vm(impl);
        assertRejected(vm, EINVAL, () -> v1(vm, 0, 0, 0, 0x1001, HVA));
        assertRejected(vm, EINVAL, () -> v1(vm, 0, 0, 0x1001, 0x1000, HVA));
        assertRejected(vm, EINVAL, () -> v1(vm, 0, 0, 0, 0x1000, HVA + 1));
        assertRejected(vm, EINVAL, () -> v1(vm, 0, 0, 0, 0x1000, 0xffff800000000000L));
        assertRejected(vm, EINVAL, () -> v1(vm, 0, 0, 0, 0x2000, KvmLimits.TASK_SIZE_MAX - 0x1000));
        assertRejected(vm, EINVAL, () -> v1(vm, 0, 0, 0, 0x2000, -0x1000L));
        assertEquals(0, v1(vm, 0, 0, 0, 0x1000, 0), "hva 0 is a legal address");
        assertEquals(0, v1(vm, 1, 0, 0x1000, 0x1000, KvmLimits.TASK_SIZE_MAX - 0x1000),
                "a slot may end exactly at the top of user space");
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void kms06GuestMemfdOffsetAlignmentAndWrap(MemslotImpl impl) {
        EngineVm vm = vm(impl);
        int fd = vm.createGuestMemfd(MB2, 0);
        assertRejected(vm, EINVAL, () -> vm.setUserMemoryRegion2(1, GUEST_MEMFD, GPA, MB2, 0, fd, 1));
        assertRejected(vm, EINVAL, () -> vm.setUserMemoryRegion2(1, GUEST_MEMFD, GPA, MB2, 0, fd, -0x1000L));
        // Step 10 comes before the fd is looked at: a bad offset with a bad fd is EINVAL, not EBADF.
        assertRejected(vm, EINVAL, () -> vm.setUserMemoryRegion2(1, GUEST_MEMFD, GPA, MB2, 0, 999, 1));
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void kms07AddressSpaceMustExist(MemslotImpl impl) {
        EngineVm vm = vm(impl);
        assertEquals(0, vm.checkExtension(Capability.MULTI_ADDRESS_SPACE), "the reference kernel has no SMM");
        assertRejected(vm, EINVAL, () -> v1(vm, 1 << 16, 0, 0, 0x1000, HVA), "trace 02: one address space");
        EngineVm smmVm = vm(VmConfig.of(VmType.DEFAULT, impl).withSmm());
        assertEquals(2, smmVm.checkExtension(Capability.MULTI_ADDRESS_SPACE));
        assertRejected(smmVm, EINVAL, () -> v1(smmVm, 2 << 16, 0, 0, 0x1000, HVA));
        assertEquals(0, v1(smmVm, 1 << 16, 0, 0, 0x1000, HVA), "with SMM, x86 default VMs have two");
        EngineVm protectedVm = vm(VmConfig.of(VmType.SW_PROTECTED, impl).withSmm());
        assertEquals(1, protectedVm.checkExtension(Capability.MULTI_ADDRESS_SPACE), "private memory: no SMM");
        assertRejected(protectedVm, EINVAL, () -> v1(protectedVm, 1 << 16, 0, 0, 0x1000, HVA));
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void kms08GpaWrapAndKms09TooLarge(MemslotImpl impl) {
        EngineVm vm = vm(impl);
        assertRejected(vm, EINVAL, () -> v1(vm, 0, 0, 0xfffffffffffff000L, 0x2000, HVA));
        long maxBytes = KvmLimits.MEM_MAX_NR_PAGES << KvmLimits.PAGE_SHIFT;
        assertRejected(vm, EINVAL, () -> v1(vm, 0, 0, 0, maxBytes + 0x1000, 0));
        assertEquals(0, v1(vm, 0, 0, 0, maxBytes, 0), "2^31 - 1 pages is the largest slot");
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void kms17TheMmuMaximumGfnIsCheckedAfterTheInvalidStep(MemslotImpl impl) {
        EngineVm vm = vm(impl);
        long top = 1L << KvmLimits.MAX_GPA_BITS;
        assertRejected(vm, EINVAL, () -> v1(vm, 2, 0, top - 0x1000, 0x2000, HVA), "CREATE ending beyond it");
        assertEquals(0, v1(vm, 1, 0, top - 0x1000, 0x1000, HVA), "the last gfn the MMU maps");
        assertRejected(vm, EINVAL, () -> v1(vm, 2, 0, top, 0x1000, HVA), "CREATE beyond it");
        assertEquals(0, v1(vm, 3, 0, 0, 0x1000, HVA));
        long generation = vm.memslotGeneration(0);
        assertEquals(EINVAL, v1(vm, 3, 0, top, 0x1000, HVA), "MOVE beyond it");
        assertEquals(generation + 2, vm.memslotGeneration(0), "the refused MOVE published INVALID and swapped back");
        assertEquals(0L, vm.slot(3).orElseThrow().baseGfn());
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void kms10DeleteNeedsAnExistingSlotAndIgnoresStaleFields(MemslotImpl impl) {
        EngineVm vm = vm(impl);
        assertRejected(vm, EINVAL, () -> v1(vm, 3, 0, 0, 0, HVA));
        assertEquals(0, v1(vm, 3, 0, GPA, MB2, HVA));
        assertEquals(0, v1(vm, 3, LOG_DIRTY_PAGES, 0x1234000, 0, 0x5000), "stale gpa, hva and flags are ignored");
        assertTrue(vm.slot(3).isEmpty());
        assertRejected(vm, EINVAL, () -> v1(vm, 3, 0, GPA, 0, HVA));
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void kms11CreateAndKms14Classification(MemslotImpl impl) {
        EngineVm vm = vm(VmConfig.of(VmType.DEFAULT, impl).withSmm());
        long gen = vm.memslotGeneration(0);
        assertEquals(0, v1(vm, 5, 0, GPA, MB2, HVA));
        assertEquals(Optional.of(new SlotInfo(0, 5, GPA >>> 12, 512, 0, HVA, 0)), vm.slot(5));
        assertEquals(gen + 2, vm.memslotGeneration(0), "CREATE publishes once; the stride is the AS count");
        assertEquals(0, v1(vm, 5, 0, GPA, MB2, HVA), "an identical re-set is a no-op");
        assertEquals(gen + 2, vm.memslotGeneration(0), "a no-op does not publish");
        assertEquals(0, v1(vm, 5, LOG_DIRTY_PAGES, GPA, MB2, HVA), "FLAGS_ONLY");
        assertEquals(gen + 4, vm.memslotGeneration(0));
        assertEquals(LOG_DIRTY_PAGES, vm.slot(5).orElseThrow().flags());
        assertEquals(0, v1(vm, 5, 0, GPA + MB2, MB2, HVA), "MOVE, changing flags at the same time");
        assertEquals(gen + 8, vm.memslotGeneration(0), "MOVE publishes twice: INVALID copy, then the new slot");
        assertEquals(new SlotInfo(0, 5, (GPA + MB2) >>> 12, 512, 0, HVA, 0), vm.slot(5).orElseThrow());
        assertEquals(0, v1(vm, 5, 0, 0, 0, 0));
        assertEquals(gen + 12, vm.memslotGeneration(0), "DELETE publishes twice");
        assertEquals(1, vm.memslotGeneration(1), "the other address space is untouched");
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void kms12GuestMemfdSlotsCanOnlyBeDeleted(MemslotImpl impl) {
        EngineVm vm = vm(impl);
        int fd = vm.createGuestMemfd(2 * MB2, 0);
        assertEquals(0, vm.setUserMemoryRegion2(1, GUEST_MEMFD, GPA, MB2, 0, fd, 0));
        assertRejected(vm, EINVAL, () -> vm.setUserMemoryRegion2(1, GUEST_MEMFD, GPA, MB2, 0, fd, 0));
        assertRejected(vm, EINVAL, () -> vm.setUserMemoryRegion2(1, GUEST_MEMFD, GPA + MB2, MB2, 0, fd, 0));
        assertRejected(vm, EINVAL, () -> vm.setUserMemoryRegion2(1, 0, GPA, MB2, 0, -1, 0));
        assertRejected(vm, EINVAL, () -> v1(vm, 1, 0, GPA + MB2, MB2, 0));
        assertEquals(0, vm.setUserMemoryRegion2(1, 0, 0, 0, 0, -1, 0));
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void kms13HvaSizeAndReadOnlyAreImmutable(MemslotImpl impl) {
        EngineVm vm = vm(impl);
        assertEquals(0, v1(vm, 1, 0, GPA, MB2, HVA));
        assertRejected(vm, EINVAL, () -> v1(vm, 1, 0, GPA, MB2, HVA + 0x1000));
        assertRejected(vm, EINVAL, () -> v1(vm, 1, 0, GPA, 2 * MB2, HVA));
        assertRejected(vm, EINVAL, () -> v1(vm, 1, READONLY, GPA, MB2, HVA));
        assertRejected(vm, EINVAL, () -> v1(vm, 1, READONLY, GPA + MB2, MB2, HVA));
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void kms15OverlapIsPerAddressSpaceAndHvasMayAlias(MemslotImpl impl) {
        EngineVm vm = vm(impl);
        assertEquals(0, v1(vm, 1, 0, GPA, MB2, HVA));
        assertRejected(vm, EEXIST, () -> v1(vm, 2, 0, GPA + MB2 - 0x1000, MB2, HVA));
        assertRejected(vm, EEXIST, () -> v1(vm, 2, 0, GPA - MB2 + 0x1000, MB2, HVA));
        assertRejected(vm, EEXIST, () -> v1(vm, 2, 0, GPA + 0x1000, 0x1000, HVA));
        assertEquals(0, v1(vm, 2, 0, GPA + MB2, MB2, HVA), "adjacent gfns and an aliasing hva are fine");
        assertRejected(vm, EEXIST, () -> v1(vm, 2, 0, GPA + 0x1000, MB2, HVA), "MOVE onto another slot");
        assertEquals(0, v1(vm, 1, 0, GPA - 0x1000, MB2, HVA), "a slot may move over its own old range");
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void kms15OtherAddressSpacesNeverConflict(MemslotImpl impl) {
        EngineVm vm = vm(VmConfig.of(VmType.DEFAULT, impl).withSmm());
        assertEquals(0, v1(vm, 1, 0, GPA, MB2, HVA));
        assertEquals(0, v1(vm, 1 << 16 | 1, 0, GPA, MB2, HVA));
        assertEquals(0, v1(vm, 1 << 16 | 2, 0, GPA + MB2, MB2, HVA));
        assertRejected(vm, EEXIST, () -> v1(vm, 1 << 16 | 3, 0, GPA + MB2, 0x1000, HVA));
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void kms16AndSmr04GuestMemfdBindingRules(MemslotImpl impl) {
        FileTable files = new FileTable();
        EngineVm a = new EngineVm(null, files, VmType.SW_PROTECTED, impl);
        EngineVm b = new EngineVm(null, files, VmType.SW_PROTECTED, impl);
        vms.add(a);
        vms.add(b);
        int gmemA = a.createGuestMemfd(MB2, 0);
        int gmemB = b.createGuestMemfd(MB2, 0);
        assertRejected(a, EBADF, () -> a.setUserMemoryRegion2(10, GUEST_MEMFD, GPA, MB2, 0, 999, 0));
        assertRejected(a, EINVAL, () -> a.setUserMemoryRegion2(10, GUEST_MEMFD, GPA, MB2, 0, gmemB, 0));
        assertEquals(0, b.setUserMemoryRegion2(10, GUEST_MEMFD, GPA, MB2, 0, gmemB, 0),
                "a guest_memfd is tied to the VM that created it");
        for (int offset = 1; offset < 4096; offset++) {
            int o = offset;
            assertEquals(EINVAL, a.setUserMemoryRegion2(10, GUEST_MEMFD, GPA, MB2, 0, gmemA, o));
        }
        assertRejected(a, EINVAL, () -> a.setUserMemoryRegion2(10, GUEST_MEMFD, GPA, MB2, 0, gmemA, 0x1000),
                "the binding must end inside the file");
        assertEquals(0, a.setUserMemoryRegion2(10, GUEST_MEMFD, GPA, MB2, 0, gmemA, 0));
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void smr05GpaOverlapComesBeforeTheBindingCheck(MemslotImpl impl) {
        EngineVm vm = vm(impl, VmType.SW_PROTECTED);
        long mb4 = 2 * MB2;
        int fd = vm.createGuestMemfd(2 * mb4, 0);
        assertEquals(0, vm.setUserMemoryRegion2(10, GUEST_MEMFD, GPA, mb4, 0, fd, 0));
        assertEquals(0, vm.setUserMemoryRegion2(11, GUEST_MEMFD, 0x180000000L, mb4, 0, fd, mb4));
        assertEquals(0, vm.setUserMemoryRegion2(10, GUEST_MEMFD, GPA, 0, 0, -1, 0), "delete ignores the fd");
        assertRejected(vm, EEXIST,
                () -> vm.setUserMemoryRegion2(10, GUEST_MEMFD, 0x180000000L - MB2, mb4, 0, fd, 0));
        assertRejected(vm, EEXIST,
                () -> vm.setUserMemoryRegion2(10, GUEST_MEMFD, 0x180000000L + MB2, mb4, 0, fd, 0));
        // KGM-09: disjoint gpas but an already-bound file range is EINVAL, not EEXIST.
        assertRejected(vm, EINVAL, () -> vm.setUserMemoryRegion2(10, GUEST_MEMFD, GPA, mb4, 0, fd, mb4));
        assertEquals(0, vm.setUserMemoryRegion2(10, GUEST_MEMFD, GPA, mb4, 0, fd, 0),
                "deleting slot 10 released its file range");
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void guestMemfdCreationRules(MemslotImpl impl) {
        EngineVm vm = vm(impl);
        EngineVm protectedVm = vm(impl, VmType.SW_PROTECTED);
        assertEquals(GuestMemfd.FLAG_MMAP | GuestMemfd.FLAG_INIT_SHARED, vm.checkExtension(Capability.GUEST_MEMFD_FLAGS));
        assertEquals(GuestMemfd.FLAG_MMAP, protectedVm.checkExtension(Capability.GUEST_MEMFD_FLAGS));
        for (int bit = 0; bit < 64; bit++) {
            long flag = 1L << bit;
            boolean supported = (vm.checkExtension(Capability.GUEST_MEMFD_FLAGS) & flag) != 0;
            int fd = vm.createGuestMemfd(4096, flag);
            assertEquals(supported, fd >= 0, "flag bit " + bit);
            if (!supported) {
                assertEquals(-EINVAL, fd);
            }
        }
        for (long size : new long[] {0, 1, 4095, 4097, -4096}) {
            assertEquals(-EINVAL, vm.createGuestMemfd(size, 0), "size " + size);
        }
        assertEquals(-EINVAL, protectedVm.createGuestMemfd(4096, GuestMemfd.FLAG_INIT_SHARED));
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void gmemOnlyFlagFollowsTheFileMmapFlag(MemslotImpl impl) {
        EngineVm vm = vm(impl);
        int mmapFd = vm.createGuestMemfd(MB2, GuestMemfd.FLAG_MMAP | GuestMemfd.FLAG_INIT_SHARED);
        assertEquals(0, vm.setUserMemoryRegion2(1, GUEST_MEMFD, 1L << 32, MB2, 0, mmapFd, 0));
        assertEquals(GUEST_MEMFD | MemslotFlags.GMEM_ONLY, vm.slot(1).orElseThrow().flags());
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void aDestroyedVmAnswersEio(MemslotImpl impl) {
        EngineVm vm = vm(impl);
        vm.close();
        assertEquals(EIO, v1(vm, 1, 0, GPA, MB2, HVA));
        assertEquals(-EIO, vm.createGuestMemfd(4096, 0));
    }
}
