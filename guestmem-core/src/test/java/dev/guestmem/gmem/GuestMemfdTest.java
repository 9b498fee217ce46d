package dev.guestmem.gmem;

import static dev.guestmem.memslot.KvmLimits.PAGE_SIZE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.guestmem.Errno;
import dev.guestmem.host.Advice;
import dev.guestmem.host.FileStat;
import dev.guestmem.host.HostFault;
import dev.guestmem.host.HostMemory;
import dev.guestmem.host.MemPolicy;
import dev.guestmem.memslot.MemslotFlags;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.vm.Capability;
import dev.guestmem.vm.EngineVm;
import dev.guestmem.vm.FileTable;
import dev.guestmem.vm.SlotInfo;
import dev.guestmem.vm.VmConfig;
import dev.guestmem.vm.VmType;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The guest_memfd selftest cases GMF-01..15 and the kernel-derived rules KGM-01..10
 * ({@code kernel-selftests.md} §A.3, §A.4) that need no guest access, on {@link EngineVm}: creation, the
 * fd operations with their errors, host mappings, binding and release. File size T = 4 pages unless
 * stated, as in the selftest.
 */
class GuestMemfdTest {
    private static final long T = 4 * PAGE_SIZE;
    private static final long P = PAGE_SIZE;
    private static final int KEEP = Fallocate.KEEP_SIZE;
    private static final int PUNCH = Fallocate.KEEP_SIZE | Fallocate.PUNCH_HOLE;
    private static final long MMAP = GuestMemfd.FLAG_MMAP;
    private static final long INIT_SHARED = GuestMemfd.FLAG_INIT_SHARED;

    private final HostMemory host = new HostMemory();
    private final FileTable files = new FileTable();
    private final List<EngineVm> vms = new ArrayList<>();

    @AfterEach
    void tearDown() {
        for (int fd : files.fds()) {
            vms.get(0).close(fd);
        }
        vms.forEach(EngineVm::close);
        host.close();
    }

    private EngineVm vm(VmType type) {
        EngineVm vm = new EngineVm(host, files, VmConfig.of(type, MemslotImpl.TREE));
        vms.add(vm);
        return vm;
    }

    private static int gmem(EngineVm vm, long size, long flags) {
        int fd = vm.createGuestMemfd(size, flags);
        assertTrue(fd >= 0, "createGuestMemfd(" + size + ", " + flags + ") = " + fd);
        return fd;
    }

    /** The flag sets GMF-02..15 run with on the default VM: none, MMAP, MMAP|INIT_SHARED. */
    static Stream<Long> flagSets() {
        return Stream.of(0L, MMAP, MMAP | INIT_SHARED);
    }

    // --- GMF-01, KGM-01: creation --------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(VmType.class)
    void gmf01EverySingleFlagBitIsAcceptedExactlyWhenTheVmReportsIt(VmType type) {
        EngineVm vm = vm(type);
        long supported = vm.checkExtension(Capability.GUEST_MEMFD_FLAGS);
        assertEquals(type == VmType.DEFAULT ? MMAP | INIT_SHARED : MMAP, supported, "v6.18 supported flags");
        for (int bit = 0; bit < 64; bit++) {
            long flag = 1L << bit;
            int fd = vm.createGuestMemfd(P, flag);
            if ((supported & flag) != 0) {
                assertTrue(fd >= 0, "flag bit " + bit);
                assertEquals(0, vm.close(fd));
            } else {
                assertEquals(-Errno.EINVAL, fd, "flag bit " + bit);
            }
        }
    }

    @Test
    void kgm01SizesMustBePositivePageMultiplesAndFlagsAreCheckedFirst() {
        EngineVm vm = vm(VmType.DEFAULT);
        for (long size : new long[] {0, -P, Long.MIN_VALUE, 1, P - 1, P + 1}) {
            assertEquals(-Errno.EINVAL, vm.createGuestMemfd(size, 0), "size " + size);
        }
        assertEquals(-Errno.EINVAL, vm.createGuestMemfd(P, 1L << 2), "unknown flag");
        assertEquals(-Errno.EINVAL, vm(VmType.SW_PROTECTED).createGuestMemfd(P, INIT_SHARED),
                "INIT_SHARED only for VM types without private memory");
        int fd = gmem(vm, 1L << 40, 0);
        assertEquals(1L << 40, vm.fstat(fd), "a terabyte file costs nothing until it is allocated");
    }

    @Test
    void createdAfterTheVmIsClosedIsEio() {
        EngineVm vm = vm(VmType.DEFAULT);
        vm.close();
        assertEquals(-Errno.EIO, vm.createGuestMemfd(P, 0));
    }

    // --- GMF-02, GMF-03, GMF-13: sizes and fstat -------------------------------------------------

    @Test
    void gmf02SeveralFilesHaveTheirOwnSizesAndInodes() {
        EngineVm vm = vm(VmType.DEFAULT);
        int fd1 = gmem(vm, P, 0);
        int fd2 = gmem(vm, 2 * P, 0);
        assertEquals(P, vm.fstat(fd1));
        assertEquals(2 * P, vm.fstat(fd2));
        assertEquals(P, vm.fstat(fd1));
        assertNotEquals(vm.stat(fd1).orElseThrow().inode(), vm.stat(fd2).orElseThrow().inode());
    }

    @ParameterizedTest
    @MethodSource("flagSets")
    void gmf03EverySizeBelowAPageIsRefused(long flags) {
        EngineVm vm = vm(VmType.DEFAULT);
        for (long size = 1; size < P; size++) {
            assertEquals(-Errno.EINVAL, vm.createGuestMemfd(size, flags), "size " + size);
        }
    }

    @ParameterizedTest
    @MethodSource("flagSets")
    void gmf13FstatReportsTheSizeAndAPageBlockSize(long flags) {
        EngineVm vm = vm(VmType.DEFAULT);
        int fd = gmem(vm, T, flags);
        FileStat stat = vm.stat(fd).orElseThrow();
        assertEquals(T, stat.size());
        assertEquals(P, stat.blockSize());
        assertEquals(T, vm.fstat(fd));
    }

    // --- GMF-04, KGM-07: no read, write or size change ------------------------------------------

    @ParameterizedTest
    @MethodSource("flagSets")
    void gmf04ReadAndWriteFailAndKgm07TheSizeCannotChange(long flags) {
        EngineVm vm = vm(VmType.DEFAULT);
        int fd = gmem(vm, T, flags);
        assertTrue(vm.readOrWrite(fd) < 0);
        assertEquals(-Errno.EINVAL, vm.readOrWrite(fd));
        assertEquals(Errno.EINVAL, vm.ftruncate(fd, 0));
        assertEquals(Errno.EINVAL, vm.ftruncate(fd, 2 * T));
        assertEquals(T, vm.fstat(fd));
    }

    // --- GMF-05, 06, 09, 10, 12, KGM-06: host mappings -------------------------------------------

    @Test
    void gmf05SharedMemoryIsMappableAndPunchingZeroesIt() {
        EngineVm vm = vm(VmType.DEFAULT);
        int fd = gmem(vm, T, MMAP | INIT_SHARED);
        long hva = vm.mmap(fd, T, true);
        assertTrue(hva > 0, "mmap: " + hva);
        fill(hva, T, 0xAAAAAAAAAAAAAAAAL);
        assertFilled(hva, 0, T, 0xAAAAAAAAAAAAAAAAL);
        assertEquals(0, vm.fallocate(fd, PUNCH, 0, P));
        assertFilled(hva, 0, P, 0);
        assertFilled(hva, P, T, 0xAAAAAAAAAAAAAAAAL);
        fill(hva, P, 0xAAAAAAAAAAAAAAAAL);
        assertFilled(hva, 0, T, 0xAAAAAAAAAAAAAAAAL);
    }

    @Test
    void gmf06HostFaultsPastTheEndAreReportedNotFatal() {
        EngineVm vm = vm(VmType.DEFAULT);
        int fd = gmem(vm, T, MMAP | INIT_SHARED);
        long hva = vm.mmap(fd, 4 * T, true);
        assertTrue(hva > 0);
        for (long off = 0; off < 4 * T; off += 8) {
            if (off < T) {
                host.write64(hva + off, 0xAAAAAAAAAAAAAAAAL);
            } else {
                long at = off;
                assertEquals(HostFault.Kind.BUS, assertThrows(HostFault.class, () -> host.write64(hva + at, 1)).kind());
            }
        }
        assertEquals(HostFault.Kind.BUS, assertThrows(HostFault.class, () -> host.read64(hva + T)).kind());
        assertFilled(hva, 0, T, 0xAAAAAAAAAAAAAAAAL);
    }

    @ParameterizedTest
    @ValueSource(longs = {MMAP, MMAP | INIT_SHARED})
    void gmf11PoliciesOfAGuestMemfdMappingReadBack(long flags) {
        EngineVm vm = vm(VmType.DEFAULT);
        long hva = vm.mmap(gmem(vm, T, flags), T, true);
        assertTrue(hva > 0, "mmap: " + hva);
        long nodes = HostMemory.allowedNodes(); // the selftest's two nodes where there are two, else node 0
        for (MemPolicy policy : List.of(new MemPolicy(MemPolicy.INTERLEAVE, nodes),
                new MemPolicy(MemPolicy.BIND, nodes), MemPolicy.defaultPolicy())) {
            assertEquals(0, host.mbind(hva, T, policy), policy.toString());
            assertEquals(Optional.of(policy), host.memPolicyAt(hva + P), policy.toString());
        }
        assertEquals(Errno.EINVAL, host.mbind(hva, T, new MemPolicy(999, nodes)));
        assertEquals(Errno.EFAULT, host.mbind(hva, 2 * T, MemPolicy.defaultPolicy()), "past the mapping");
    }

    @Test
    void gmf07PagesLandOnTheNodeTheirPolicyNames() {
        long nodes = HostMemory.allowedNodes();
        assumeTrue(Long.bitCount(nodes) >= 2, "GMF-07 needs a multi-node host, as in the selftest; this one has "
                + Long.bitCount(nodes) + " node(s)");
        int a = Long.numberOfTrailingZeros(nodes);
        int b = Long.numberOfTrailingZeros(nodes & ~(1L << a));
        EngineVm vm = vm(VmType.DEFAULT);
        int fd = gmem(vm, T, MMAP | INIT_SHARED);
        long hva = vm.mmap(fd, T, true);
        for (int round = 0; round < 2; round++) {
            for (long page = 0; page < T / P; page++) {
                int node = (page % 2 == round) ? a : b;
                assertEquals(0, host.mbind(hva + page * P, P, new MemPolicy(MemPolicy.BIND, 1L << node)));
                host.write64(hva + page * P, page); // allocates the page under its policy
                assertEquals(OptionalInt.of(node), host.nodeOf(hva + page * P), "round " + round + " page " + page);
            }
            assertEquals(0, vm.fallocate(fd, PUNCH, 0, T)); // frees every page: the next round re-allocates
        }
    }

    @Test
    void gmf08GuestMemfdPagesNeverCollapseIntoAHugePage() {
        EngineVm vm = vm(VmType.DEFAULT);
        long pmd = 2L << 20;
        int fd = gmem(vm, pmd, MMAP | INIT_SHARED);
        long hva = vm.mmap(fd, pmd, true);
        assertTrue(hva > 0, "mmap: " + hva);
        assertFilled(hva, 0, pmd, 0); // populate by reads
        assertEquals(0, host.madvise(hva, pmd, Advice.HUGEPAGE));
        assertEquals(Errno.EINVAL, host.madvise(hva, pmd, Advice.COLLAPSE));
        assertEquals(0, host.madvise(hva, pmd, Advice.DONTNEED));
        assertEquals(0, host.read64(hva));
    }

    @ParameterizedTest
    @EnumSource(VmType.class)
    void gmf09PrivateMemoryIsNeverHostFaultable(VmType type) {
        EngineVm vm = vm(type);
        int fd = gmem(vm, T, MMAP);
        long hva = vm.mmap(fd, T, true);
        assertTrue(hva > 0, "the mapping itself is allowed");
        assertEquals(HostFault.Kind.BUS, assertThrows(HostFault.class, () -> host.write64(hva, 1)).kind());
        assertEquals(HostFault.Kind.BUS, assertThrows(HostFault.class, () -> host.read64(hva)).kind());
    }

    @Test
    void gmf10PrivateMappingsAreRefused() {
        EngineVm vm = vm(VmType.DEFAULT);
        assertEquals(-Errno.EINVAL, vm.mmap(gmem(vm, T, MMAP | INIT_SHARED), T, false));
        assertEquals(-Errno.EINVAL, vm.mmap(gmem(vm, T, MMAP), T, false));
    }

    @Test
    void gmf12WithoutMmapNoMappingAtAll() {
        EngineVm vm = vm(VmType.DEFAULT);
        int fd = gmem(vm, T, 0);
        assertEquals(-Errno.ENODEV, vm.mmap(fd, P, true));
        assertEquals(-Errno.ENODEV, vm.mmap(fd, T, true));
        assertEquals(-Errno.ENODEV, vm.mmap(fd, T, false), "ENODEV comes before the MAP_SHARED check");
    }

    @Test
    void kgm06GenericMmapChecksComeFirst() {
        EngineVm vm = vm(VmType.DEFAULT);
        int fd = gmem(vm, T, 0);
        assertEquals(-Errno.EINVAL, vm.mmap(fd, 0, true));
        assertEquals(-Errno.ENOMEM, vm.mmap(fd, -1L, true));
        assertEquals(-Errno.EBADF, vm.mmap(999, T, true));
    }

    @Test
    void kgm06TheFirstHostFaultOnAPageSeesZeros() {
        EngineVm vm = vm(VmType.DEFAULT);
        int fd = gmem(vm, T, MMAP | INIT_SHARED);
        long hva = vm.mmap(fd, T, true);
        assertFilled(hva, 0, T, 0);
    }

    // --- GMF-14, GMF-15, KGM-02..05: fallocate ---------------------------------------------------

    static Stream<Arguments> gmf14Table() {
        return Stream.of(
                Arguments.of(KEEP, 0, T, 0),
                Arguments.of(PUNCH, P - 1, P, Errno.EINVAL),
                Arguments.of(KEEP, T, P, Errno.EINVAL),
                Arguments.of(KEEP, T + P, P, Errno.EINVAL),
                Arguments.of(PUNCH, T, P, 0),
                Arguments.of(PUNCH, T + P, P, 0),
                Arguments.of(PUNCH, P, P - 1, Errno.EINVAL),
                Arguments.of(PUNCH, P, P, 0),
                Arguments.of(KEEP, P, P, 0));
    }

    @ParameterizedTest
    @MethodSource("flagSets")
    void gmf14TheFallocateTableInOrder(long flags) {
        EngineVm vm = vm(VmType.DEFAULT);
        int fd = gmem(vm, T, flags);
        int row = 1;
        for (Arguments a : gmf14Table().toList()) {
            Object[] r = a.get();
            assertEquals((int) r[3], vm.fallocate(fd, (int) r[0], ((Number) r[1]).longValue(),
                    ((Number) r[2]).longValue()), "row " + row++);
        }
    }

    @ParameterizedTest
    @MethodSource("flagSets")
    void gmf15MisalignedPunchesAreRefused(long flags) {
        EngineVm vm = vm(VmType.DEFAULT);
        int fd = gmem(vm, T, flags);
        long[][] pairs = {{0, 1}, {0, P - 1}, {0, P + 1}, {1, 1}, {1, P - 1}, {1, P}, {1, P + 1}, {P, 1},
            {P, P - 1}, {P, P + 1}};
        for (long[] pair : pairs) {
            assertEquals(Errno.EINVAL, vm.fallocate(fd, PUNCH, pair[0], pair[1]), pair[0] + "+" + pair[1]);
        }
    }

    @Test
    void kgm02ModesOtherThanAllocateAndPunchAreNotSupported() {
        EngineVm vm = vm(VmType.DEFAULT);
        int fd = gmem(vm, T, 0);
        assertEquals(Errno.EOPNOTSUPP, vm.fallocate(fd, 0, 0, P), "allocation without KEEP_SIZE");
        assertEquals(Errno.EOPNOTSUPP, vm.fallocate(fd, Fallocate.PUNCH_HOLE, 0, P), "punch without KEEP_SIZE");
        for (int mode : new int[] {KEEP | 0x4, KEEP | 0x8, KEEP | 0x10, KEEP | 0x20, KEEP | 0x40, KEEP | 0x80, 0x8,
            0x10, 0x40, 0x100, PUNCH | 0x10}) {
            assertEquals(Errno.EOPNOTSUPP, vm.fallocate(fd, mode, 0, P), "mode 0x" + Integer.toHexString(mode));
        }
    }

    @Test
    void kgm03AlignmentIsCheckedAfterTheModeAndTheVfsRangeChecksBeforeIt() {
        EngineVm vm = vm(VmType.DEFAULT);
        int fd = gmem(vm, T, 0);
        assertEquals(Errno.EOPNOTSUPP, vm.fallocate(fd, 0, 1, 1), "mode before alignment");
        assertEquals(Errno.EINVAL, vm.fallocate(fd, 0, -P, P), "negative offset before the mode");
        assertEquals(Errno.EINVAL, vm.fallocate(fd, 0x100, 0, 0), "empty length before the mode");
        assertEquals(Errno.EFBIG, vm.fallocate(fd, PUNCH, Long.MAX_VALUE & -P, P), "offset + len wraps");
        assertEquals(Errno.EINVAL, vm.fallocate(fd, KEEP, 0, 1));
    }

    @Test
    void kgm04AllocationReallyAllocatesAndAPendingSignalInterruptsIt() {
        EngineVm vm = vm(VmType.DEFAULT);
        int fd = gmem(vm, T, 0);
        assertEquals(0, vm.stat(fd).orElseThrow().blocks());
        assertEquals(0, vm.fallocate(fd, KEEP, P, 2 * P));
        assertEquals(2 * P / 512, vm.stat(fd).orElseThrow().blocks());
        assertEquals(Errno.EINVAL, vm.fallocate(fd, KEEP, 2 * P, 3 * P), "past the end");
        Thread.currentThread().interrupt();
        try {
            assertEquals(Errno.EINTR, vm.fallocate(fd, KEEP, 0, T));
        } finally {
            Thread.interrupted();
        }
        assertEquals(2 * P / 512, vm.stat(fd).orElseThrow().blocks());
    }

    @Test
    void kgm05PunchingFreesAndIsFinePastTheEnd() {
        EngineVm vm = vm(VmType.DEFAULT);
        int fd = gmem(vm, T, 0);
        assertEquals(0, vm.fallocate(fd, KEEP, 0, T));
        assertEquals(0, vm.fallocate(fd, PUNCH, P, T));
        assertEquals(P / 512, vm.stat(fd).orElseThrow().blocks(), "pages 1..3 freed, page 0 kept");
        assertEquals(0, vm.fallocate(fd, PUNCH, 100 * T, T));
    }

    // --- KGM-08, KGM-09: binding ----------------------------------------------------------------

    private static int bind(EngineVm vm, int slot, long gpa, long size, int fd, long offset) {
        return vm.setUserMemoryRegion2(slot, MemslotFlags.GUEST_MEMFD, gpa, size, 0, fd, offset);
    }

    @Test
    void kgm08BindingNeedsAnOpenGuestMemfdOfThisVmAndARangeInsideIt() {
        EngineVm vm = vm(VmType.DEFAULT);
        EngineVm other = vm(VmType.DEFAULT);
        int fd = gmem(vm, T, 0);
        int foreign = gmem(other, T, 0);
        int notGmem = files.install("not a guest_memfd");
        assertEquals(Errno.EBADF, bind(vm, 1, 0x100000, P, 999, 0));
        assertEquals(Errno.EINVAL, bind(vm, 1, 0x100000, P, notGmem, 0));
        assertEquals(Errno.EINVAL, bind(vm, 1, 0x100000, P, foreign, 0));
        assertEquals(Errno.EINVAL, bind(vm, 1, 0x100000, P, fd, P / 2));
        assertEquals(Errno.EINVAL, bind(vm, 1, 0x100000, 2 * P, fd, T - P));
        assertEquals(Errno.EINVAL, bind(vm, 1, 0x100000, P, fd, -P));
        assertEquals(0, bind(vm, 1, 0x100000, P, fd, T - P));
        files.remove(notGmem);
    }

    @Test
    void kgm09OverlappingFileRangesAreEinvalEvenForDisjointGuestAddresses() {
        EngineVm vm = vm(VmType.DEFAULT);
        int fd = gmem(vm, T, 0);
        assertEquals(0, bind(vm, 1, 0x100000, 2 * P, fd, 0));
        assertEquals(Errno.EINVAL, bind(vm, 2, 0x200000, 2 * P, fd, P));
        assertEquals(0, bind(vm, 2, 0x200000, 2 * P, fd, 2 * P));
        GuestMemfd file = (GuestMemfd) files.get(fd);
        assertEquals(List.of(1, 1, 2, 2), List.of(file.slotAt(0).id(), file.slotAt(1).id(), file.slotAt(2).id(),
                file.slotAt(3).id()));
    }

    @Test
    void deletingASlotUnbindsItsRange() {
        EngineVm vm = vm(VmType.DEFAULT);
        int fd = gmem(vm, T, 0);
        assertEquals(0, bind(vm, 1, 0x100000, 2 * P, fd, 0));
        assertEquals(0, vm.setUserMemoryRegion2(1, 0, 0, 0, 0, -1, 0));
        GuestMemfd file = (GuestMemfd) files.get(fd);
        assertNull(file.slotAt(0));
        assertEquals(0, bind(vm, 2, 0x200000, 2 * P, fd, 0), "the range can be bound again");
    }

    // --- KGM-10: close --------------------------------------------------------------------------

    @Test
    void kgm10ClosingReleasesBindingsButTheSlotsAndTheHostMappingRemain() {
        EngineVm vm = vm(VmType.DEFAULT);
        int fd = gmem(vm, T, MMAP | INIT_SHARED);
        long hva = vm.mmap(fd, T, true);
        host.write64(hva + P, 0x55);
        assertEquals(0, bind(vm, 1, 0x100000, 2 * P, fd, 0));
        GuestMemfd file = (GuestMemfd) files.get(fd);
        var binding = file.slotAt(0).gmem();
        assertSame(file, binding.file());
        assertEquals(0, vm.close(fd));
        assertTrue(file.isReleased());
        assertNull(binding.file(), "the slot forgot the file");
        assertNull(file.slotAt(0), "bindings dropped");
        assertTrue(vm.slot(1).isPresent(), "the slot itself stays until deleted");
        assertEquals(0x55, host.read64(hva + P), "the memory lives with the inode while it is mapped");
        assertEquals(Errno.EBADF, vm.fallocate(fd, KEEP, 0, P));
        assertEquals(-Errno.EBADF, vm.fstat(fd));
        assertEquals(Errno.EBADF, vm.close(fd));
        assertEquals(-Errno.EBADF, vm.mmap(fd, T, true));
        assertEquals(0, vm.setUserMemoryRegion2(1, 0, 0, 0, 0, -1, 0), "deleting the slot later is fine");
    }

    @Test
    void kgm10AClosedFileCannotBeBound() {
        EngineVm vm = vm(VmType.DEFAULT);
        int fd = gmem(vm, T, 0);
        assertEquals(0, vm.close(fd));
        assertEquals(Errno.EBADF, bind(vm, 1, 0x100000, P, fd, 0));
    }

    @Test
    void pmc03TheFileOutlivesTheVm() {
        EngineVm vm = vm(VmType.SW_PROTECTED);
        int fd = gmem(vm, T, 0);
        vm.close();
        assertEquals(0, vm.fallocate(fd, PUNCH, 0, T));
        assertEquals(0, vm.fallocate(fd, KEEP, 0, T));
        assertEquals(0, vm.close(fd));
    }

    @Test
    void aVmWithItsOwnFileTableClosesItsFilesWhenItCloses() {
        EngineVm vm = new EngineVm(host, VmType.DEFAULT, MemslotImpl.ARRAY);
        int fd = gmem(vm, T, MMAP | INIT_SHARED);
        long hva = vm.mmap(fd, T, true);
        host.write64(hva, 7);
        vm.close();
        assertEquals(-Errno.EBADF, vm.fstat(fd), "process exit closed it");
        assertEquals(7, host.read64(hva), "its host mapping lives on");
    }

    @Test
    void slotsOfMmapFilesAreGmemOnly() {
        EngineVm vm = vm(VmType.DEFAULT);
        assertEquals(0, bind(vm, 1, 0x100000, P, gmem(vm, T, MMAP), 0));
        assertEquals(0, bind(vm, 2, 0x200000, P, gmem(vm, T, 0), 0));
        SlotInfo mmap = vm.slot(1).orElseThrow();
        SlotInfo plain = vm.slot(2).orElseThrow();
        assertTrue((mmap.flags() & MemslotFlags.GMEM_ONLY) != 0);
        assertEquals(0, plain.flags() & MemslotFlags.GMEM_ONLY);
    }

    // --- helpers --------------------------------------------------------------------------------

    private void fill(long hva, long length, long value) {
        for (long off = 0; off < length; off += 8) {
            host.write64(hva + off, value);
        }
    }

    private void assertFilled(long hva, long from, long to, long value) {
        for (long off = from; off < to; off += 8) {
            assertEquals(value, host.read64(hva + off), "offset " + off);
        }
    }
}
