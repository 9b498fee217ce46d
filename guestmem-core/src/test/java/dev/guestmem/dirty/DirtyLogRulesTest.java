package dev.guestmem.dirty;

import static dev.guestmem.Errno.EFAULT;
import static dev.guestmem.Errno.EINVAL;
import static dev.guestmem.Errno.ENOENT;
import static dev.guestmem.Errno.ENXIO;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.memslot.Memslot;
import dev.guestmem.memslot.MemslotFlags;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.mmu.Spte;
import dev.guestmem.vm.Access;
import dev.guestmem.vm.Capability;
import dev.guestmem.vm.EngineVm;
import dev.guestmem.vm.MemslotChange;
import dev.guestmem.vm.Vcpu;
import dev.guestmem.vm.VmType;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The kernel-derived dirty-log rules KDL-01..07 (kernel-selftests.md §A.7) and the bitmap lifecycle of
 * spec §4.1 / §2.7: who gets a bitmap, when it is shared, what enabling logging does to existing mappings.
 */
class DirtyLogRulesTest {
    private static final long GPA = 0x4000_0000L;
    private static final int LOG = MemslotFlags.LOG_DIRTY_PAGES;
    private static final long PAGE = 4096;

    private final EngineVm vm = EngineVm.create(VmType.DEFAULT, MemslotImpl.TREE);
    private final Vcpu cpu = vm.vcpu(0);

    @AfterEach
    void close() {
        assertEquals(List.of(), vm.mmu().invariants().violations());
        vm.close();
    }

    /** A mapping of {@code pages} pages under slot {@code id} at {@link #GPA}. */
    private long slot(int id, int flags, long pages) {
        long hva = vm.host().mmap(pages * PAGE);
        assertEquals(0, vm.setUserMemoryRegion(id, flags, GPA, pages * PAGE, hva));
        return hva;
    }

    private long[] get(int slot, long pages) {
        long[] bitmap = new long[(int) DirtyBitmap.wordsFor(pages)];
        assertEquals(0, vm.getDirtyLog(slot, bitmap));
        return bitmap;
    }

    private static long[] bits(long words, long... pages) {
        long[] bitmap = new long[(int) words];
        for (long p : pages) {
            bitmap[(int) (p >>> 6)] |= 1L << p;
        }
        return bitmap;
    }

    /** Level and writability of every present leaf, by gfn offset from {@link #GPA}. */
    private TreeMap<Long, String> leaves() {
        TreeMap<Long, String> out = new TreeMap<>();
        vm.mmu().forEachLeaf((gfn, level, spte) -> {
            if (!Spte.isMmio(spte)) {
                out.put(gfn - (GPA >>> 12), level + (Spte.isWritable(spte) ? "rw" : "ro"));
            }
        });
        return out;
    }

    // ---------------------------------------------------------------------------------------------
    // KDL-01 .. KDL-03: errors

    @Test
    void kdl01RingsWithoutBitmapsAnswerEnxio() {
        assertEquals(EINVAL, vm.enableCap(Capability.DIRTY_LOG_RING, 4096), "this VM has a vCPU already");
        try (EngineVm ringVm = EngineVm.create(VmType.DEFAULT, MemslotImpl.TREE)) {
            assertEquals(0, ringVm.enableCap(Capability.DIRTY_LOG_RING, 4096));
            // The ring check comes first: even a bad id or a misaligned first page is ENXIO.
            assertEquals(ENXIO, ringVm.getDirtyLog(40000, new long[1]));
            assertEquals(ENXIO, ringVm.clearDirtyLog(1, 1, 64, new long[1]));
            long hva = ringVm.host().mmap(64 * PAGE);
            assertEquals(0, ringVm.setUserMemoryRegion(1, LOG, GPA, 64 * PAGE, hva));
            assertEquals(ENXIO, ringVm.getDirtyLog(1, new long[1]));
            assertEquals(ENXIO, ringVm.clearDirtyLog(1, 0, 64, new long[1]));
        }
    }

    @Test
    void kdl02IdAndAddressSpaceOutOfRangeAreEinval() {
        for (int bad : new int[] {32764, 32767, 0xFFFF, 1 << 16 | 1, 0xFFFF_FFFF}) {
            assertEquals(EINVAL, vm.getDirtyLog(bad, new long[1]), Integer.toHexString(bad));
            assertEquals(EINVAL, vm.clearDirtyLog(bad, 0, 64, new long[1]), Integer.toHexString(bad));
        }
        assertEquals(ENOENT, vm.getDirtyLog(32763, new long[1]), "the last user slot id is in range");
    }

    @Test
    void kdl03MissingSlotOrNoLoggingIsEnoent() {
        assertEquals(ENOENT, vm.getDirtyLog(1, new long[1]));
        slot(1, 0, 64);
        assertEquals(ENOENT, vm.getDirtyLog(1, new long[1]));
        assertEquals(ENOENT, vm.clearDirtyLog(1, 0, 64, new long[1]));
        // CLEAR checks the first page's alignment before looking the slot up.
        assertEquals(EINVAL, vm.clearDirtyLog(1, 1, 64, new long[1]));
        assertEquals(EINVAL, vm.clearDirtyLog(2, 65, 64, new long[1]));
    }

    // ---------------------------------------------------------------------------------------------
    // KDL-04: GET

    @Test
    void kdl04LegacyGetReturnsAndClearsAndReprotects() {
        slot(1, LOG, 130);
        for (long p : new long[] {0, 63, 64, 129}) {
            assertEquals(Access.STORED, cpu.write64(GPA + p * PAGE, p));
        }
        assertArrayEquals(bits(3, 0, 63, 64, 129), get(1, 130));
        assertArrayEquals(bits(3), get(1, 130), "GET cleared what it returned");
        assertEquals("1ro", leaves().get(63L), "and write-protected it again");
        assertEquals(Access.STORED, cpu.write64(GPA + 63 * PAGE, 1));
        assertArrayEquals(bits(3, 63), get(1, 130), "so the next write is logged again");
    }

    @Test
    void kdl04ShortAndLongBuffers() {
        slot(1, LOG, 130);
        cpu.write64(GPA, 1);
        cpu.write64(GPA + 129 * PAGE, 1);
        long[] shortBuffer = new long[1];
        assertEquals(0, vm.getDirtyLog(1, shortBuffer));
        assertArrayEquals(new long[] {1}, shortBuffer, "a short buffer gets the words that fit");
        cpu.write64(GPA + 129 * PAGE, 2);
        long[] longBuffer = {0, 0, 0, 0xAAAA};
        assertEquals(0, vm.getDirtyLog(1, longBuffer));
        assertArrayEquals(new long[] {0, 0, 1L << 1, 0xAAAA}, longBuffer, "words past the slot's stay");
    }

    @Test
    void kdl04ManualGetReturnsTheLiveBitmapWithoutClearing() {
        assertEquals(0, vm.enableCap(Capability.MANUAL_DIRTY_LOG_PROTECT2, 1));
        slot(1, LOG, 64);
        assertArrayEquals(bits(1), get(1, 64), "without INITIALLY_SET the bitmap starts clean");
        cpu.write64(GPA + 5 * PAGE, 1);
        assertArrayEquals(bits(1, 5), get(1, 64));
        assertArrayEquals(bits(1, 5), get(1, 64), "not cleared");
        assertEquals("1rw", leaves().get(5L), "not write-protected");
    }

    @Test
    void initiallySetBitmapsStartAllOnesAndProtectNothing() {
        assertEquals(0, vm.enableCap(Capability.MANUAL_DIRTY_LOG_PROTECT2, 3));
        slot(1, 0, 70);
        cpu.write64(GPA, 1);
        assertEquals(0, vm.setUserMemoryRegion(1, LOG, GPA, 70 * PAGE, vm.slot(1).orElseThrow().userspaceAddr()));
        long[] all = new long[2];
        all[0] = -1L;
        all[1] = (1L << 6) - 1;
        assertArrayEquals(all, get(1, 70));
        assertEquals("1rw", leaves().get(0L), "INITIALLY_SET: enabling protects nothing");
        assertEquals(0, vm.clearDirtyLog(1, 0, 64, new long[] {1}));
        assertEquals("1ro", leaves().get(0L), "CLEAR protects what it cleared");
    }

    // ---------------------------------------------------------------------------------------------
    // KDL-05, KDL-06: CLEAR

    @Test
    void kdl05ClearArgumentRules() {
        assertEquals(0, vm.enableCap(Capability.MANUAL_DIRTY_LOG_PROTECT2, 3));
        slot(1, LOG, 196);
        long[] four = new long[4];
        assertEquals(EINVAL, vm.clearDirtyLog(1, 1, 64, four), "first page not a multiple of 64");
        assertEquals(EINVAL, vm.clearDirtyLog(1, 256, 0, four), "first page past the slot");
        assertEquals(EINVAL, vm.clearDirtyLog(1, 128, 69, four), "window past the slot's end");
        assertEquals(EINVAL, vm.clearDirtyLog(1, 64, 63, four), "unaligned length short of the end");
        assertEquals(EINVAL, vm.clearDirtyLog(1, 0, -1, four), "num_pages is u32: 2^32-1 pages");
        assertEquals(EINVAL, vm.clearDirtyLog(1, 0x8000_0000_0000_0000L, 0, four), "first page is u64");
        assertEquals(0, vm.clearDirtyLog(1, 128, 68, four), "unaligned length reaching the end");
        assertEquals(0, vm.clearDirtyLog(1, 192, 4, four));
        assertEquals(0, vm.clearDirtyLog(1, 196 / 64 * 64, 0, four), "num_pages 0 is a no-op");
        assertEquals(EFAULT, vm.clearDirtyLog(1, 0, 128, new long[1]), "bitmap shorter than the window");
    }

    @Test
    void kdl06ClearOnlyWhatWasCollectedAndProtectExactlyThat() {
        assertEquals(0, vm.enableCap(Capability.MANUAL_DIRTY_LOG_PROTECT2, 1));
        slot(1, LOG, 128);
        cpu.write64(GPA, 1);
        cpu.write64(GPA + PAGE, 1);
        cpu.write64(GPA + 65 * PAGE, 1);
        // The caller's mask names pages 0, 2 and 65; only 0 and 65 were dirty. Page 1 is left alone.
        assertEquals(0, vm.clearDirtyLog(1, 0, 128, bits(2, 0, 2, 65)));
        assertArrayEquals(bits(2, 1), get(1, 128));
        TreeMap<Long, String> leaves = leaves();
        assertEquals("1ro", leaves.get(0L));
        assertEquals("1rw", leaves.get(1L));
        assertEquals("1ro", leaves.get(65L));
        // Bits past the slot's end in the caller's last word are harmless.
        assertEquals(0, vm.clearDirtyLog(1, 64, 64, new long[] {-1L}));
    }

    // ---------------------------------------------------------------------------------------------
    // KDL-07: VMM-side writes

    @Test
    void kdl07WritesByKvmItselfAreLogged() {
        long hva = slot(1, LOG, 64);
        assertEquals(0, vm.writeGuest64(GPA + 3 * PAGE + 8, 0x1234));
        assertEquals(0x1234, vm.host().read64(hva + 3 * PAGE + 8));
        // A copy across a page boundary marks both pages.
        assertEquals(0, vm.writeGuest(GPA + 10 * PAGE - 8, MemorySegment.ofArray(new long[2])));
        assertArrayEquals(bits(1, 3, 9, 10), get(1, 64));
        assertEquals(EFAULT, vm.writeGuest64(GPA + 64 * PAGE, 1), "no slot there");
        // Host writes through the hva are not KVM's writes: never logged.
        vm.host().write64(hva + 20 * PAGE, 5);
        assertArrayEquals(bits(1), get(1, 64));
    }

    @Test
    void kdl07VmmWritesOfAReadOnlySlotFail() {
        slot(1, MemslotFlags.READONLY | LOG, 4);
        assertEquals(EFAULT, vm.writeGuest64(GPA, 1));
    }

    // ---------------------------------------------------------------------------------------------
    // Bitmap lifecycle (spec §4.1, §2.7)

    @Test
    void moveKeepsTheBitmapAndLoggingOffDropsIt() {
        long hva = slot(3, LOG, 16);
        cpu.write64(GPA + PAGE, 1);
        assertEquals(0, vm.setUserMemoryRegion(3, LOG, GPA + 0x100000, 16 * PAGE, hva));
        assertArrayEquals(bits(1, 1), get(3, 16), "MOVE kept the bits");
        cpu.write64(GPA + 0x100000 + 2 * PAGE, 1);
        assertEquals(0, vm.setUserMemoryRegion(3, 0, GPA + 0x100000, 16 * PAGE, hva));
        assertEquals(ENOENT, vm.getDirtyLog(3, new long[1]));
        assertEquals(0, vm.setUserMemoryRegion(3, LOG, GPA + 0x100000, 16 * PAGE, hva));
        assertArrayEquals(bits(1), get(3, 16), "turned on again: a fresh bitmap");
    }

    @Test
    void bitmapObjectIsSharedByMoveAndFlagsOnlyAndFreshOtherwise() {
        Memslot first = new Memslot(0, 1, 0x100, 64, LOG, 0x10000, null);
        DirtyLogCaps caps = new DirtyLogCaps();
        DirtyBitmapAllocator allocator = new DirtyBitmapAllocator(caps);
        Memslot created = allocator.prepare(null, first, MemslotChange.CREATE);
        assertTrue(created.dirtyBitmap() != null);
        Memslot moved = allocator.prepare(created, new Memslot(0, 1, 0x900, 64, LOG, 0x10000, null),
                MemslotChange.MOVE);
        assertSame(created.dirtyBitmap(), moved.dirtyBitmap());
        Memslot off = allocator.prepare(moved, new Memslot(0, 1, 0x900, 64, 0, 0x10000, null),
                MemslotChange.FLAGS_ONLY);
        assertNull(off.dirtyBitmap());
        Memslot on = allocator.prepare(off, new Memslot(0, 1, 0x900, 64, LOG, 0x10000, null),
                MemslotChange.FLAGS_ONLY);
        assertNotSame(created.dirtyBitmap(), on.dirtyBitmap());
        assertEquals(0, caps.enableRing(4096, false));
        Memslot ringSlot = allocator.prepare(null, first, MemslotChange.CREATE);
        assertNull(ringSlot.dirtyBitmap(), "with a ring and no ring-with-bitmap: no bitmap");
        assertSame(created.dirtyBitmap(), allocator.prepare(created, first,
                MemslotChange.FLAGS_ONLY).dirtyBitmap(), "an existing bitmap stays even with a ring");
    }

    @Test
    void loggingSlotsAreCounted() {
        long hva = slot(1, LOG, 4);
        long b = vm.host().mmap(PAGE);
        assertEquals(0, vm.setUserMemoryRegion(2, 0, 0x9000_0000L, PAGE, b));
        assertEquals(1, vm.dirtyLog().stats().loggingSlots());
        assertEquals(0, vm.setUserMemoryRegion(2, LOG, 0x9000_0000L, PAGE, b));
        assertEquals(2, vm.dirtyLog().stats().loggingSlots());
        assertEquals(0, vm.setUserMemoryRegion(1, LOG, GPA + 0x100000, 4 * PAGE, hva));
        assertEquals(2, vm.dirtyLog().stats().loggingSlots(), "MOVE keeps logging");
        assertEquals(0, vm.setUserMemoryRegion(1, 0, 0, 0, 0));
        assertEquals(0, vm.setUserMemoryRegion(2, 0, 0x9000_0000L, PAGE, b));
        assertEquals(0, vm.dirtyLog().stats().loggingSlots());
    }

    @Test
    void enablingLoggingWriteProtectsExistingMappings() {
        long hva = slot(1, 0, 8);
        cpu.write64(GPA, 1);
        cpu.write64(GPA + PAGE, 1);
        assertEquals("1rw", leaves().get(0L));
        assertEquals(0, vm.setUserMemoryRegion(1, LOG, GPA, 8 * PAGE, hva));
        assertEquals("1ro", leaves().get(0L));
        assertEquals("1ro", leaves().get(1L));
        assertArrayEquals(bits(1), get(1, 8), "nothing dirty yet: writes before logging do not count");
        long fast = cpu.stats().orElseThrow().pfFast();
        assertEquals(Access.STORED, cpu.write64(GPA + PAGE, 2));
        assertEquals(fast + 1, cpu.stats().orElseThrow().pfFast(), "a protected 4 KiB page: fast path");
        assertArrayEquals(bits(1, 1), get(1, 8));
        assertFalse(vm.dirtyLog().stats().lostWithoutVcpu() > 0);
    }

    /**
     * KDL-06: CLEAR re-protects exactly the pages it cleared (one walk over the 64-page window must not
     * write-protect the others): the page left dirty stays writable, the cleared ones take a fast fault.
     */
    @Test
    void clearReprotectsExactlyTheClearedPages() {
        long hva = vm.host().mmap(64 * PAGE);
        assertEquals(0, vm.enableCap(Capability.MANUAL_DIRTY_LOG_PROTECT2, 1));
        assertEquals(0, vm.setUserMemoryRegion(1, LOG, GPA, 64 * PAGE, hva));
        Vcpu cpu = vm.vcpu(0);
        for (int p = 0; p < 3; p++) {
            assertEquals(Access.STORED, cpu.write64(GPA + p * PAGE, p + 1));
        }
        assertEquals(0, vm.clearDirtyLog(1, 0, 64, new long[] {0b101}));
        long fast = cpu.stats().orElseThrow().pfFast();
        assertEquals(Access.STORED, cpu.write64(GPA + PAGE, 9));
        assertEquals(fast, cpu.stats().orElseThrow().pfFast(), "page 1 was not cleared: still writable");
        assertEquals(Access.STORED, cpu.write64(GPA, 9));
        assertEquals(Access.STORED, cpu.write64(GPA + 2 * PAGE, 9));
        assertEquals(fast + 2, cpu.stats().orElseThrow().pfFast(), "pages 0 and 2 were write-protected again");
        long[] bitmap = new long[1];
        assertEquals(0, vm.getDirtyLog(1, bitmap));
        assertEquals(0b111, bitmap[0], "the re-dirtied pages are logged again");
    }
}
