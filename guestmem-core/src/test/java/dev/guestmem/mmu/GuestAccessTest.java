package dev.guestmem.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.host.Advice;
import dev.guestmem.host.Protection;
import dev.guestmem.memslot.MemslotFlags;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.vm.Access;
import dev.guestmem.vm.Capability;
import dev.guestmem.vm.Taken;
import dev.guestmem.vm.EngineVm;
import dev.guestmem.vm.Quirks;
import dev.guestmem.vm.Vcpu;
import dev.guestmem.vm.VmConfig;
import dev.guestmem.vm.VmType;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Guest accesses through SPTEs and the TLB: values, exits, mapping levels and the statistics. */
class GuestAccessTest {
    private static final long GPA = 0xC0000000L;
    private static final long MB2 = 0x200000;

    private final EngineVm vm = EngineVm.create(VmType.DEFAULT, MemslotImpl.TREE);
    private final Vcpu cpu = vm.vcpu(0);

    @AfterEach
    void close() {
        assertEquals(List.of(), vm.mmu().invariants().violations());
        vm.close();
    }

    private VcpuStats stats() {
        return cpu.stats().orElseThrow();
    }

    private VmStats vmStats() {
        return vm.stats().orElseThrow();
    }

    /** A mapping of {@code size} bytes whose start is 2 MiB aligned (carved out of a larger one). */
    private long alignedMapping(long size) {
        long raw = vm.host().mmap(size + MB2);
        return (raw + MB2 - 1) & -MB2;
    }

    /** Level of every present leaf, by gfn. */
    private List<String> leaves() {
        List<String> out = new ArrayList<>();
        vm.mmu().forEachLeaf((gfn, level, spte) -> out.add(Long.toHexString(gfn) + "@" + level
                + (Spte.isMmio(spte) ? "mmio" : Spte.isWritable(spte) ? "rw" : "ro")));
        return out;
    }

    @Test
    void aFillLoopStopsAtItsFirstExitInGuestModeAndThroughSingleAccesses() {
        long a = vm.host().mmap(0x8000);
        assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA, 0x8000, a));
        // Stores 0..3 land in the slot, store 4 (just past it) exits, 5 and 6 never run.
        assertEquals(new Access.Mmio(GPA + 0x8000, true), cpu.fillStrided(GPA + 0x4000, 7, 0x1000, 3));
        assertEquals(3, vm.host().read64(a + 0x7000));
        assertEquals(0, vm.host().read64(a + 0x3000));
        long[] result = new long[2];
        cpu.run(g -> {
            result[0] = g.fill(GPA, 4, 8, 5) ? 1 : 0;
            result[1] = g.fill(GPA + 0x7000, 2, 0x1000, 6) ? 1 : 0;
            assertEquals(new Access.Mmio(GPA + 0x8000, true), g.lastExit());
        });
        assertEquals(1, result[0]);
        assertEquals(0, result[1]);
        assertEquals(5, vm.host().read64(a + 0x18));
        assertEquals(6, vm.host().read64(a + 0x7000));
    }

    @Test
    void aTakeLoopClearsMatchingWordsAndStopsAtTheFirstOtherInGuestModeAndThroughSingleAccesses() {
        long a = vm.host().mmap(0x4000);
        assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA, 0x4000, a));
        for (long page = 0; page < 4; page++) {
            vm.host().write64(a + page * 0x1000 + 8, page == 2 ? 1 : 7);
        }
        assertEquals(new Taken(2, null), cpu.takeStrided(GPA + 8, 4, 0x1000, 7));
        assertEquals(0, vm.host().read64(a + 0x1008));
        assertEquals(7, vm.host().read64(a + 0x3008), "after the stop: untouched");
        long[] taken = new long[1];
        cpu.run(g -> {
            taken[0] = g.take(GPA + 0x3008, 2, 0x1000, 7);
            assertEquals(new Access.Mmio(GPA + 0x4008, false), g.lastExit(), "past the slot");
        });
        assertEquals(1, taken[0]);
        assertEquals(0, vm.host().read64(a + 0x3008));
    }

    @Test
    void aFaultMapsThePageAndLaterAccessesHitTheTlb() {
        long a = vm.host().mmap(MB2);
        assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA, MB2, a));
        assertEquals(Access.STORED, cpu.write64(GPA + 0x1008, 0x1122));
        assertEquals(0x1122, vm.host().read64(a + 0x1008));
        VcpuStats afterFault = stats();
        assertEquals(1, afterFault.pfFixed());
        for (int i = 0; i < 100; i++) {
            assertEquals(new Access.Value(0x1122), cpu.read64(GPA + 0x1008));
            assertEquals(Access.STORED, cpu.write64(GPA + 0x1010, i));
        }
        assertEquals(afterFault.pfTaken(), stats().pfTaken(), "TLB hits take no fault");
        assertEquals(List.of("c0001@1rw"), leaves());
        assertEquals(1, vmStats().pages4k());
    }

    @Test
    void aliasingSlotsShareTheHostPage() {
        long a = vm.host().mmap(MB2);
        assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA, MB2, a));
        assertEquals(0, vm.setUserMemoryRegion(2, 0, GPA + 0x400000, 0x1000, a + 0x1000));
        assertEquals(Access.STORED, cpu.write64(GPA + 0x1008, 0x1122));
        assertEquals(new Access.Value(0x1122), cpu.read64(GPA + 0x400008));
        assertEquals(Access.STORED, cpu.write64(GPA + 0x400010, 5));
        assertEquals(new Access.Value(5), cpu.read64(GPA + 0x1010));
    }

    @Test
    void aReadFaultMapsWritableOnlyWhenTheHostPageIsAlreadyWritable() {
        long a = vm.host().mmap(0x4000);
        assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA, 0x4000, a));
        vm.host().write64(a + 0x1000, 7);
        assertEquals(new Access.Value(7), cpu.read64(GPA + 0x1000));
        assertEquals(new Access.Value(0), cpu.read64(GPA + 0x2000));
        assertEquals(List.of("c0001@1rw", "c0002@1ro"), leaves(), "written page rw, zero page ro");
        long taken = stats().pfTaken();
        assertEquals(Access.STORED, cpu.write64(GPA + 0x1000, 8));
        assertEquals(taken, stats().pfTaken(), "the read already mapped the written page writable");
        assertEquals(Access.STORED, cpu.write64(GPA + 0x2000, 9));
        // The write fault breaks copy-on-write of the zero page; the invalidation that fires drops the
        // read-only SPTE and makes the fault retry, and the retry maps the new page writable.
        assertEquals(taken + 2, stats().pfTaken(), "the zero page needs a write fault, retried once");
        assertEquals(List.of("c0001@1rw", "c0002@1rw"), leaves());
        assertEquals(9, vm.host().read64(a + 0x2000));
    }

    @Test
    void aWriteThroughAnAliasBreaksCopyOnWriteForEveryAlias() {
        long a = vm.host().mmap(0x1000);
        assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA, 0x1000, a));
        assertEquals(0, vm.setUserMemoryRegion(2, 0, GPA + 0x100000, 0x1000, a));
        assertEquals(new Access.Value(0), cpu.read64(GPA), "maps the zero page read-only through slot 1");
        assertEquals(List.of("c0000@1ro"), leaves());
        long invalidations = vmStats().invalidations();
        assertEquals(Access.STORED, cpu.write64(GPA + 0x100000, 3), "slot 2 writes the same page");
        assertEquals(invalidations + 1, vmStats().invalidations(), "the copy-on-write break");
        assertEquals(List.of("c0100@1rw"), leaves(), "slot 1's zero-page SPTE is gone");
        assertEquals(new Access.Value(3), cpu.read64(GPA));
        assertEquals(List.of("c0000@1rw", "c0100@1rw"), leaves(), "and comes back writable");
        assertEquals(Access.STORED, cpu.write64(GPA + 0x8, 4));
        assertEquals(invalidations + 1, vmStats().invalidations(), "a written page breaks nothing");
    }

    @Test
    void aHostStoreDropsTheZeroPageSpteOfEveryAlias() {
        long a = vm.host().mmap(0x1000);
        assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA, 0x1000, a));
        assertEquals(0, vm.setUserMemoryRegion(2, 0, GPA + 0x100000, 0x1000, a));
        assertEquals(new Access.Value(0), cpu.read64(GPA));
        assertEquals(new Access.Value(0), cpu.read64(GPA + 0x100000));
        assertEquals(List.of("c0000@1ro", "c0100@1ro"), leaves(), "both aliases map the zero page read-only");
        long invalidations = vmStats().invalidations();
        // The store's copy-on-write break fires the MMU notifier before the value lands (HostMemory).
        vm.host().write64(a + 8, 0x42);
        assertEquals(invalidations + 1, vmStats().invalidations(), "one copy-on-write break");
        assertEquals(List.of(), leaves(), "no SPTE maps the replaced zero page");
        assertEquals(new Access.Value(0x42), cpu.read64(GPA + 8));
        assertEquals(List.of("c0000@1rw"), leaves(), "the re-fault finds the written page and maps it writable");
        vm.host().write64(a + 16, 0x43);
        assertEquals(invalidations + 1, vmStats().invalidations(), "a written page breaks nothing");
    }

    @Test
    void hostChangesReachTheGuest() {
        long a = vm.host().mmap(0x10000);
        assertEquals(0, vm.setUserMemoryRegion(1, 0, 0x100000, 0x10000, a));
        assertEquals(Access.STORED, cpu.write64(0x101000, 5));
        assertEquals(0, vm.host().madvise(a + 0x1000, 0x1000, Advice.DONTNEED));
        assertEquals(new Access.Value(0), cpu.read64(0x101000), "a discarded page reads zero");
        assertEquals(0, vm.host().mprotect(a, 0x10000, Protection.READ));
        assertEquals(new Access.Efault(0x100000), cpu.write64(0x100000, 2));
        assertEquals(new Access.Value(0), cpu.read64(0x100000));
        assertEquals(0, vm.host().mprotect(a, 0x10000, Protection.READ_WRITE));
        assertEquals(Access.STORED, cpu.write64(0x100000, 3));
        assertEquals(0, vm.host().mprotect(a, 0x10000, Protection.NONE));
        assertEquals(new Access.Efault(0x100000), cpu.read64(0x100000));
        assertEquals(0, vm.host().munmap(a, 0x10000));
        assertEquals(new Access.Efault(0x100000), cpu.read64(0x100000), "the slot outlives its mapping");
        assertEquals(List.of(), leaves());
        assertTrue(vmStats().invalidations() >= 5);
        assertEquals(3, stats().efaultExits());
    }

    @Test
    void badAddressesExitWithoutTouchingMemory() {
        long a = vm.host().mmap(0x1000);
        assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA, 0x1000, a));
        assertEquals(new Access.Mmio(GPA + 0x1000, false), cpu.read64(GPA + 0x1000), "just past the slot");
        assertEquals(new Access.Mmio(0, true), cpu.write64(0, 1));
        assertEquals(new Access.Mmio(-8L, false), cpu.read64(-8L), "beyond the guest-physical width");
        assertEquals(new Access.Mmio(1L << 52, false), cpu.read64(1L << 52));
        assertThrows(IllegalArgumentException.class, () -> cpu.read64(GPA + 4));
        assertEquals(0, vm.setUserMemoryRegion(2, 0, 0x200000, 0x1000, 0x7fffffffe000L));
        assertEquals(new Access.Efault(0x200000), cpu.read64(0x200000), "a never-mapped hva");
        assertEquals(0, vm.host().munmap(a, 0x1000));
        assertEquals(new Access.Efault(GPA), cpu.write64(GPA, 1), "a freed host page");
    }

    @Test
    void readOnlySlotWritesExitAsMmioAndMapNothingWritable() {
        long a = vm.host().mmap(0x4000);
        vm.host().write64(a, 0x1234);
        assertEquals(0, vm.setUserMemoryRegion(2, MemslotFlags.READONLY, 0x10000, 0x4000, a));
        assertEquals(new Access.Value(0x1234), cpu.read64(0x10000));
        assertEquals(new Access.Mmio(0x10000, true), cpu.write64(0x10000, 1));
        assertEquals(0x1234, vm.host().read64(a));
        assertEquals(List.of("10@1ro"), leaves(), "host-writable page, read-only slot: read-only SPTE");
    }

    @Test
    void mmioSptesAreCachedUntilTheMemslotGenerationMoves() {
        long a = vm.host().mmap(0x1000);
        vm.host().write64(a, 42);
        assertEquals(new Access.Mmio(GPA, false), cpu.read64(GPA));
        assertEquals(new Access.Mmio(GPA, false), cpu.read64(GPA));
        assertEquals(1, stats().pfMmioSpteCreated(), "the second access used the cached MMIO SPTE");
        assertEquals(List.of("c0000@1mmio"), leaves());
        assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA + 0x1000, 0x1000, a), "an unrelated slot moves the gen");
        assertEquals(new Access.Mmio(GPA, false), cpu.read64(GPA));
        assertEquals(2, stats().pfMmioSpteCreated(), "stale generation: rebuilt");
        assertEquals(0, vm.setUserMemoryRegion(2, 0, GPA, 0x1000, a));
        assertEquals(new Access.Value(42), cpu.read64(GPA), "a cached MMIO SPTE must not hide a new slot");
        assertEquals(2, stats().pfMmioSpteCreated());
    }

    @Test
    void hugeMappingsWhenSlotHvaAndHostAllowThem() {
        long a = alignedMapping(2 * MB2);
        assertEquals(0, vm.host().madvise(a, 2 * MB2, Advice.HUGEPAGE));
        assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA, 2 * MB2, a));
        assertEquals(Access.STORED, cpu.write64(GPA + 0x1000, 1));
        assertEquals(Access.STORED, cpu.write64(GPA + 0x1ff000, 2));
        assertEquals(1, vmStats().pages2m());
        assertEquals(0, vmStats().pages4k());
        assertEquals(1, stats().pfFixed(), "one fault for the whole frame");
        assertTrue(vm.host().isWrittenSinceDiscard(a + 0x100000), "a huge write fault populates the frame");
        assertEquals(new Access.Value(2), cpu.read64(GPA + 0x1ff000));
        // Partly unmapping the frame zaps the huge leaf; the rest comes back at 4 KiB.
        assertEquals(0, vm.host().madvise(a + 0x1000, 0x1000, Advice.DONTNEED));
        assertEquals(0, vmStats().pages2m());
        assertEquals(new Access.Value(2), cpu.read64(GPA + 0x1ff000));
        assertEquals(0, vmStats().pages2m(), "the discard split the huge page");
        // Discarding the whole frame frees it: the next write fault may map it huge again.
        assertEquals(0, vm.host().madvise(a, MB2, Advice.DONTNEED));
        assertEquals(Access.STORED, cpu.write64(GPA + 0x1fe000, 3));
        assertEquals(1, vmStats().pages2m());
        assertEquals(0, vm.host().mprotect(a + 0x10000, 0x1000, Protection.READ));
        assertEquals(0, vmStats().pages2m());
        assertEquals(new Access.Value(3), cpu.read64(GPA + 0x1fe000));
        assertEquals(0, vmStats().pages2m(), "a frame cut into areas of two protections is never huge");
        assertEquals(new Access.Efault(GPA + 0x10000), cpu.write64(GPA + 0x10000, 4));
        assertEquals(new Access.Value(0), cpu.read64(GPA + 0x10000));
    }

    @Test
    void aFirstGuestStoreIntoAnEmptyHugeAdvisedFramePopulatesItAll() {
        // Seed 206501 of the differential test: with dirty logging the MMU maps 4 KiB, but the host still
        // backs the advised frame with one transparent huge page on the first write fault.
        long a = alignedMapping(MB2);
        assertEquals(0, vm.host().madvise(a, MB2, Advice.HUGEPAGE));
        assertEquals(0, vm.setUserMemoryRegion(1, MemslotFlags.LOG_DIRTY_PAGES, GPA, MB2, a));
        assertEquals(Access.STORED, cpu.write64(GPA, 1));
        assertEquals(new Access.Value(0), cpu.read64(GPA + 0x5000));
        long[] bitmap = new long[(int) (MB2 / 0x1000 / 64)];
        assertEquals(0, vm.getDirtyLog(1, bitmap));
        assertEquals(0b100001, bitmap[0], "the read mapped a page of the huge page writable, and logged it");
    }

    @Test
    void noHugeMappingWithoutAdviceAlignmentOrWithLogging() {
        long a = alignedMapping(4 * MB2);
        assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA, MB2, a), "not huge-advised");
        assertEquals(0, vm.host().madvise(a + MB2, 3 * MB2, Advice.HUGEPAGE));
        assertEquals(0, vm.setUserMemoryRegion(2, 0, GPA + MB2, MB2, a + MB2 + 0x1000), "hva off by a page");
        assertEquals(0, vm.setUserMemoryRegion(3, MemslotFlags.LOG_DIRTY_PAGES, GPA + 2 * MB2, MB2, a + 2 * MB2));
        assertEquals(0, vm.setUserMemoryRegion(4, 0, GPA + 3 * MB2 + 0x1000, MB2 - 0x1000, a + 3 * MB2 + 0x1000),
                "congruent, but the slot holds no whole frame");
        for (int s = 0; s < 4; s++) {
            assertEquals(Access.STORED, cpu.write64(GPA + s * MB2 + 0x2000, s));
        }
        assertEquals(0, vmStats().pages2m());
        assertEquals(4, vmStats().pages4k());
    }

    @Test
    void deleteAndMoveDropTheOldTranslations() {
        long a = vm.host().mmap(0x2000);
        assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA, 0x2000, a));
        assertEquals(Access.STORED, cpu.write64(GPA, 1));
        assertEquals(Access.STORED, cpu.write64(GPA + 0x1000, 2));
        assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA - 0x1000, 0x2000, a));
        assertEquals(new Access.Value(2), cpu.read64(GPA), "GPA now resolves to the second page");
        assertEquals(new Access.Value(1), cpu.read64(GPA - 0x1000));
        assertEquals(0, vm.setUserMemoryRegion(1, 0, 0, 0, 0));
        assertEquals(new Access.Mmio(GPA, false), cpu.read64(GPA));
        assertEquals(List.of("c0000@1mmio"), leaves());
        assertTrue(vmStats().remoteTlbFlush() >= 2);
    }

    /** Off from the start ({@link MmuOptions}), on, and switched off at run time with DISABLE_QUIRKS2. */
    @Test
    void aSlotChangeZapsEverySpteUnlessTheQuirkIsDisabled() {
        for (int mode = 0; mode < 3; mode++) {
            boolean zapAll = mode == 0;
            try (EngineVm v = EngineVm.create(VmConfig.of(VmType.DEFAULT, MemslotImpl.TREE)
                    .withMmu(MmuOptions.DEFAULT.withSlotZapAll(mode != 1)))) {
                if (mode == 2) {
                    assertEquals(0, v.enableCap(Capability.DISABLE_QUIRKS2, Quirks.SLOT_ZAP_ALL));
                }
                long a = v.host().mmap(0x2000);
                v.host().write64(a, 5); // written before the guest maps it, so no later store breaks CoW
                assertEquals(0, v.setUserMemoryRegion(1, 0, GPA, 0x1000, a));
                assertEquals(0, v.setUserMemoryRegion(2, 0, GPA + 0x100000, 0x1000, a + 0x1000));
                Vcpu c = v.vcpu(0);
                assertEquals(new Access.Value(5), c.read64(GPA));
                assertEquals(new Access.Value(0), c.read64(GPA + 0x100000));
                long tables = v.mmu().liveTables();
                assertEquals(0, v.setUserMemoryRegion(2, 0, 0, 0, 0));
                assertEquals(zapAll ? 0 : 1, v.stats().orElseThrow().pages4k(), "slot 1's leaf with the quirk off");
                assertTrue(zapAll ? v.mmu().liveTables() == 1 : v.mmu().liveTables() == tables);
                long before = c.stats().orElseThrow().pfTaken();
                assertEquals(new Access.Value(5), c.read64(GPA));
                assertEquals(zapAll ? before + 1 : before, c.stats().orElseThrow().pfTaken());
                assertEquals(List.of(), v.mmu().invariants().violations());
            }
        }
    }

    @Test
    void aClosedVmDropsEveryMappingAndItsTables() {
        long a = vm.host().mmap(MB2);
        assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA, MB2, a));
        for (long off = 0; off < MB2; off += 0x1000) {
            assertEquals(Access.STORED, cpu.write64(GPA + off, off));
        }
        assertTrue(vm.mmu().liveTables() > 1);
        vm.mmu().destroy();
        assertEquals(List.of(), leaves());
        assertEquals(1, vm.mmu().liveTables(), "only the root is left");
        assertEquals(new Access.Efault(GPA), cpu.read64(GPA), "a destroyed MMU maps nothing");
        assertFalse(vm.vcpus().get(0).tlbMapsHostRange(a, a + MB2, false));
    }
}
