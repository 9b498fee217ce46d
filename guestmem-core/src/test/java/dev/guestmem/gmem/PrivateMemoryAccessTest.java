package dev.guestmem.gmem;

import static dev.guestmem.gmem.MemoryAttributes.PRIVATE;
import static dev.guestmem.memslot.KvmLimits.PAGE_SIZE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.memslot.MemslotFlags;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.vm.Access;
import dev.guestmem.vm.EngineVm;
import dev.guestmem.vm.FileTable;
import dev.guestmem.vm.Vcpu;
import dev.guestmem.vm.VmConfig;
import dev.guestmem.vm.VmType;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Guest accesses to guest_memfd and private memory through the engine's MMU (spec §5.5, §5.8): the
 * selftest scenarios GMF-16, PMC-01, PMC-02 and PMX-01/02 ({@code kernel-selftests.md} §A.3, §A.8, §A.9)
 * adapted to {@link Vcpu} accesses, and the guest side of KGM-05, KGM-10 and KGM-11.
 */
class PrivateMemoryAccessTest {
    private static final long P = PAGE_SIZE;
    private static final long GIB4 = 1L << 32;
    private static final int PUNCH = Fallocate.KEEP_SIZE | Fallocate.PUNCH_HOLE;
    private static final int GMEM = MemslotFlags.GUEST_MEMFD;

    private final FileTable files = new FileTable();
    private final List<EngineVm> vms = new ArrayList<>();

    @AfterEach
    void tearDown() {
        for (EngineVm vm : vms) {
            assertEquals(List.of(), vm.mmu().invariants().violations(), "MMU invariants");
        }
        for (int fd : files.fds()) {
            vms.get(0).close(fd);
        }
        vms.forEach(vm -> {
            vm.close();
            vm.host().close();
        });
    }

    private EngineVm vm(VmType type) {
        EngineVm vm = new EngineVm(new dev.guestmem.host.HostMemory(), files, VmConfig.of(type, MemslotImpl.TREE));
        vms.add(vm);
        return vm;
    }

    private static int gmem(EngineVm vm, long size, long flags) {
        int fd = vm.createGuestMemfd(size, flags);
        assertTrue(fd >= 0, "createGuestMemfd: " + fd);
        return fd;
    }

    /** The gfns the MMU maps right now. */
    private static List<Long> mappedGfns(EngineVm vm) {
        List<Long> gfns = new ArrayList<>();
        vm.mmu().forEachLeaf((gfn, level, spte) -> gfns.add(gfn));
        return gfns;
    }

    private static Access value(long v) {
        return new Access.Value(v);
    }

    private static Access memfault(long gpa, boolean isPrivate) {
        return new Access.MemoryFault(gpa, P, isPrivate);
    }

    // --- default VM: gmem-only slots -------------------------------------------------------------

    @Test
    void gmf16GuestAndHostShareMemoryThroughAGmemOnlySlot() {
        EngineVm vm = vm(VmType.DEFAULT);
        int fd = gmem(vm, P, GuestMemfd.FLAG_MMAP | GuestMemfd.FLAG_INIT_SHARED);
        assertEquals(0, vm.setUserMemoryRegion2(1, GMEM, GIB4, P, 0, fd, 0), "no hva at all");
        long hva = vm.mmap(fd, P, true);
        for (long off = 0; off < P; off += 8) {
            vm.host().write64(hva + off, 0xAAAAAAAAAAAAAAAAL);
        }
        assertEquals(0, vm.host().munmap(hva, P));
        Vcpu cpu = vm.vcpu(0);
        for (long off = 0; off < P; off += 8) {
            assertEquals(value(0xAAAAAAAAAAAAAAAAL), cpu.read64(GIB4 + off));
            assertEquals(Access.STORED, cpu.write64(GIB4 + off, -1L));
        }
        long again = vm.mmap(fd, P, true);
        for (long off = 0; off < P; off += 8) {
            assertEquals(-1L, vm.host().read64(again + off));
        }
    }

    @Test
    void kgm05PunchingZapsTheGuestMappingAndTheGuestRereadsZero() {
        EngineVm vm = vm(VmType.DEFAULT);
        int fd = gmem(vm, 4 * P, GuestMemfd.FLAG_MMAP | GuestMemfd.FLAG_INIT_SHARED);
        assertEquals(0, vm.setUserMemoryRegion2(1, GMEM, GIB4, 2 * P, 0, fd, 2 * P));
        Vcpu cpu = vm.vcpu(0);
        assertEquals(Access.STORED, cpu.write64(GIB4, 0x3333));
        assertEquals(Access.STORED, cpu.write64(GIB4 + P, 0x4444));
        assertEquals(List.of(GIB4 / P, GIB4 / P + 1), mappedGfns(vm));
        assertEquals(0, vm.fallocate(fd, PUNCH, 0, 3 * P), "file pages 0..2: only page 2 is bound (slot gfn 0)");
        assertEquals(List.of(GIB4 / P + 1), mappedGfns(vm), "exactly the clamped gfn was zapped");
        assertEquals(value(0), cpu.read64(GIB4));
        assertEquals(value(0x4444), cpu.read64(GIB4 + P));
    }

    @Test
    void kgm10AfterCloseGuestAccessesExitWithAMemoryFault() {
        EngineVm vm = vm(VmType.DEFAULT);
        int fd = gmem(vm, P, GuestMemfd.FLAG_MMAP | GuestMemfd.FLAG_INIT_SHARED);
        assertEquals(0, vm.setUserMemoryRegion2(1, GMEM, GIB4, P, 0, fd, 0));
        Vcpu cpu = vm.vcpu(0);
        assertEquals(Access.STORED, cpu.write64(GIB4, 5));
        assertEquals(0, vm.close(fd));
        assertEquals(List.of(), mappedGfns(vm), "release zapped the slot");
        assertEquals(memfault(GIB4, false), cpu.read64(GIB4 + 8));
        assertEquals(memfault(GIB4, false), cpu.write64(GIB4, 1));
    }

    @Test
    void kgm11AGmemSlotWithoutMmapServesSharedAccessesFromItsHva() {
        EngineVm vm = vm(VmType.DEFAULT);
        int fd = gmem(vm, P, 0);
        long hva = vm.host().mmap(P);
        vm.host().write64(hva, 0x77);
        assertEquals(0, vm.setUserMemoryRegion2(1, GMEM, GIB4, P, hva, fd, 0));
        assertEquals(value(0x77), vm.vcpu(0).read64(GIB4), "not gmem-only: the shared path through the hva");
        assertEquals(0, vm.setUserMemoryRegion2(2, GMEM, 2 * GIB4, P, 0, gmem(vm, P, 0), 0));
        assertEquals(new Access.Efault(2 * GIB4), vm.vcpu(0).read64(2 * GIB4), "and with no hva: efault");
    }

    // --- SW_PROTECTED VM: private memory ---------------------------------------------------------

    /** A SW_PROTECTED VM with slot 10 at 4 GiB: {@code pages} pages of guest_memfd plus shared hva backing. */
    private record Protected(EngineVm vm, int fd, long hva, Vcpu cpu) {
    }

    private Protected protectedVm(long pages) {
        EngineVm vm = vm(VmType.SW_PROTECTED);
        int fd = gmem(vm, pages * P, 0);
        long hva = vm.host().mmap(pages * P);
        assertEquals(0, vm.setUserMemoryRegion2(10, GMEM, GIB4, pages * P, hva, fd, 0));
        return new Protected(vm, fd, hva, vm.vcpu(0));
    }

    @Test
    void pmc01PrivateWritesAreInvisibleToTheHostAndSharedOnesVisibleBothWays() {
        Protected t = protectedVm(4);
        EngineVm vm = t.vm();
        Vcpu cpu = t.cpu();
        assertEquals(Access.STORED, cpu.write64(GIB4 + P, 0x11));
        assertEquals(0x11, vm.host().read64(t.hva() + P), "shared: the guest wrote the hva's page");
        vm.host().write64(t.hva() + P, 0xCC);
        assertEquals(value(0xCC), cpu.read64(GIB4 + P), "and sees the host's writes");

        assertEquals(0, vm.setMemoryAttributes(GIB4 + P, P, PRIVATE, 0));
        assertTrue(mappedGfns(vm).isEmpty(), "the conversion zapped the shared mapping");
        assertEquals(value(0), cpu.read64(GIB4 + P), "private memory starts zeroed");
        assertEquals(Access.STORED, cpu.write64(GIB4 + P, 0x22));
        assertEquals(value(0x22), cpu.read64(GIB4 + P));
        assertEquals(0xCC, vm.host().read64(t.hva() + P), "the host still sees the shared page");
        assertEquals(value(0), cpu.read64(GIB4), "the other pages stay shared");

        assertEquals(0, vm.setMemoryAttributes(GIB4 + P, P, 0, 0));
        assertEquals(value(0xCC), cpu.read64(GIB4 + P), "back to shared: the hva's data again");
        vm.host().write64(t.hva() + P, 0x33);
        assertEquals(value(0x33), cpu.read64(GIB4 + P));
        assertEquals(0, vm.setMemoryAttributes(GIB4 + P, P, PRIVATE, 0));
        assertEquals(value(0x22), cpu.read64(GIB4 + P), "private again without a punch: its data survived");
    }

    @Test
    void pmc01ConvertingToSharedWithFallocatePunchesThePrivatePages() {
        Protected t = protectedVm(4);
        EngineVm vm = t.vm();
        assertEquals(0, vm.setMemoryAttributes(GIB4, 4 * P, PRIVATE, 0));
        assertEquals(0, vm.fallocate(t.fd(), Fallocate.KEEP_SIZE, 0, 4 * P), "converting to private allocates");
        for (long page = 0; page < 4; page++) {
            assertEquals(Access.STORED, t.cpu().write64(GIB4 + page * P, 0x10 + page));
        }
        assertEquals(0, vm.setMemoryAttributes(GIB4 + P, 2 * P, 0, 0));
        assertEquals(0, vm.fallocate(t.fd(), PUNCH, P, 2 * P), "converting to shared punches");
        assertEquals(0, vm.setMemoryAttributes(GIB4 + P, 2 * P, PRIVATE, 0));
        assertEquals(value(0x10), t.cpu().read64(GIB4));
        assertEquals(value(0), t.cpu().read64(GIB4 + P));
        assertEquals(value(0), t.cpu().read64(GIB4 + 2 * P));
        assertEquals(value(0x13), t.cpu().read64(GIB4 + 3 * P));
    }

    @Test
    void pmc02PunchingPrivateMemoryZapsAndTheGuestRereadsZero() {
        Protected t = protectedVm(8);
        EngineVm vm = t.vm();
        assertEquals(0, vm.setMemoryAttributes(GIB4, 8 * P, PRIVATE, 0));
        for (long[] range : new long[][] {{0, 1}, {0, 8}, {1, 1}, {3, 4}, {7, 1}}) {
            assertEquals(0, vm.fallocate(t.fd(), PUNCH, 0, 8 * P), "punch all of R; attributes stay private");
            for (long page = range[0]; page < range[0] + range[1]; page++) {
                assertEquals(Access.STORED, t.cpu().write64(GIB4 + page * P + 8, 0xCC));
                assertEquals(value(0xCC), t.cpu().read64(GIB4 + page * P + 8));
            }
            assertEquals(0, vm.fallocate(t.fd(), PUNCH, range[0] * P, range[1] * P));
            for (long gfn : mappedGfns(vm)) {
                long page = gfn - GIB4 / P;
                assertTrue(page < range[0] || page >= range[0] + range[1], "page " + page + " still mapped");
            }
            for (long page = range[0]; page < range[0] + range[1]; page++) {
                assertEquals(value(0), t.cpu().read64(GIB4 + page * P + 8), "page " + page);
            }
            assertTrue(vm.memoryAttributes(GIB4 / P) == PRIVATE);
        }
    }

    @Test
    void kma04AConversionZapsExactlyItsGfnsInEverySlotAndANoOpZapsNothing() {
        EngineVm vm = vm(VmType.SW_PROTECTED);
        long a = vm.host().mmap(4 * P);
        long b = vm.host().mmap(4 * P);
        assertEquals(0, vm.setUserMemoryRegion(1, 0, GIB4, 4 * P, a));
        assertEquals(0, vm.setUserMemoryRegion(2, 0, GIB4 + 8 * P, 4 * P, b), "a 4-page hole between the slots");
        Vcpu cpu = vm.vcpu(0);
        for (long page : new long[] {0, 2, 3, 8, 9, 11}) {
            assertEquals(Access.STORED, cpu.write64(GIB4 + page * P, page));
        }
        long base = GIB4 / P;
        assertEquals(List.of(base, base + 2, base + 3, base + 8, base + 9, base + 11), mappedGfns(vm));
        assertEquals(0, vm.setMemoryAttributes(GIB4 + 3 * P, 7 * P, 0, 0));
        assertEquals(6, mappedGfns(vm).size(), "nothing to change: no zap");
        assertEquals(0, vm.setMemoryAttributes(GIB4 + 3 * P, 7 * P, PRIVATE, 0));
        assertEquals(List.of(base, base + 2, base + 11), mappedGfns(vm), "gfns 3..9 zapped in both slots");
        assertEquals(0, vm.mmu().window().inProgress(), "the window closed again");
        assertEquals(memfault(GIB4 + 3 * P, true), cpu.read64(GIB4 + 3 * P), "private without guest_memfd");
        assertEquals(value(2), cpu.read64(GIB4 + 2 * P));
        assertEquals(0, vm.setMemoryAttributes(GIB4 + 4 * P, 4 * P, PRIVATE, 0), "only the hole: no slot");
        assertEquals(0, vm.setMemoryAttributes(GIB4, 12 * P, 0, 0));
        assertEquals(value(9), cpu.read64(GIB4 + 9 * P), "shared again: the hva's data");
    }

    @Test
    void pmx02APrivateAccessToASlotWithoutGuestMemfdExits() {
        EngineVm vm = vm(VmType.SW_PROTECTED);
        long hva = vm.host().mmap(P);
        assertEquals(0, vm.setUserMemoryRegion(10, 0, 0xC0000000L, P, hva));
        assertEquals(0, vm.setMemoryAttributes(0xC0000000L, P, PRIVATE, 0));
        assertEquals(memfault(0xC0000000L, true), vm.vcpu(0).read64(0xC0000000L + 0x10));
        assertEquals(memfault(0xC0000000L, true), vm.vcpu(0).write64(0xC0000000L, 1));
    }

    @Test
    void aPrivateAccessWithNoSlotAtAllExitsInsteadOfBecomingMmio() {
        EngineVm vm = vm(VmType.SW_PROTECTED);
        assertEquals(0, vm.setMemoryAttributes(0xC0000000L, P, PRIVATE, 0));
        assertEquals(memfault(0xC0000000L, true), vm.vcpu(0).read64(0xC0000000L));
        assertEquals(new Access.Mmio(0xC0001000L, false), vm.vcpu(0).read64(0xC0001000L), "shared: MMIO");
    }

    @Test
    void pmx01APrivateReaderEndsWithAMemoryFaultWhenItsSlotIsDeleted() throws InterruptedException {
        EngineVm vm = vm(VmType.SW_PROTECTED);
        long gpa = 0xC0000000L;
        int fd = gmem(vm, P, 0);
        assertEquals(0, vm.setUserMemoryRegion2(10, GMEM, gpa, P, 0, fd, 0));
        assertEquals(0, vm.setMemoryAttributes(gpa, P, PRIVATE, 0));
        Vcpu cpu = vm.vcpu(0);
        AtomicBoolean deleted = new AtomicBoolean();
        AtomicReference<Access> last = new AtomicReference<>();
        List<Access> unexpected = new ArrayList<>();
        Thread reader = Thread.ofPlatform().start(() -> {
            while (true) {
                boolean after = deleted.get();
                Access a = cpu.read64(gpa);
                last.set(a);
                if (!a.equals(value(0)) && !a.equals(memfault(gpa, true))) {
                    unexpected.add(a);
                }
                if (after) {
                    return; // one full access that started after the delete returned
                }
            }
        });
        Thread.sleep(20);
        assertEquals(0, vm.setUserMemoryRegion2(10, 0, 0, 0, 0, -1, 0));
        deleted.set(true);
        reader.join(10_000);
        assertTrue(!reader.isAlive(), "the reader finished");
        assertEquals(List.of(), unexpected, "only the private page or the memory-fault exit, never MMIO");
        assertEquals(memfault(gpa, true), last.get());
    }
}
