package dev.guestmem.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The EPT bit layout of mmu.md §1.2 and the static SPTE rules of §1.4, §1.6 and §8.3. */
class SpteTest {
    @Test
    void bitPositionsAreTheEptOnes() {
        assertEquals(1L << 11, Spte.MMU_PRESENT);
        assertEquals(1L << 7, Spte.LARGE);
        assertEquals(1L << 8, Spte.ACCESSED);
        assertEquals(1L << 9, Spte.DIRTY);
        assertEquals(1L << 57, Spte.HOST_WRITABLE);
        assertEquals(1L << 58, Spte.MMU_WRITABLE);
        assertEquals(1L << 63, Spte.NONPRESENT);
        assertEquals((1L << 63) | 0x5a0, Spte.FROZEN);
        assertEquals(0x000F_FFFF_FFFF_F000L, Spte.PFN_MASK);
    }

    @Test
    void aWritableLeafIsBornDirtyWithAllThreeWritableBits() {
        long spte = Spte.makeLeaf(0x12345, PageLevel.PG_4K, true, true);
        assertTrue(Spte.isPresentLeaf(spte, 1));
        assertTrue(Spte.isWritable(spte) && Spte.isMmuWritable(spte) && Spte.isHostWritable(spte));
        assertTrue(Spte.isDirty(spte) && Spte.isAccessed(spte));
        assertEquals(0x12345, Spte.pfn(spte));
        assertFalse((spte & Spte.LARGE) != 0, "no page-size bit at 4K");
        assertNull(Spte.violation(spte, 1));
    }

    @Test
    void readOnlyLeavesKeepHostWritableOnlyIfTheHostAllows() {
        long host = Spte.makeLeaf(7, 1, true, false);
        assertTrue(Spte.isHostWritable(host));
        assertFalse(Spte.isMmuWritable(host) || Spte.isWritable(host));
        long ro = Spte.makeLeaf(7, 1, false, false);
        assertFalse(Spte.isHostWritable(ro));
        assertThrows(IllegalArgumentException.class, () -> Spte.makeLeaf(7, 1, false, true));
    }

    @Test
    void theWritableChainIsEnforced() {
        long rw = Spte.makeLeaf(8, 1, true, true);
        assertNotNull(Spte.violation(rw & ~Spte.MMU_WRITABLE, 1), "W without MMU-writable");
        assertNotNull(Spte.violation(rw & ~Spte.HOST_WRITABLE, 1), "MMU-writable without Host-writable");
        assertNull(Spte.violation(rw & ~Spte.W, 1), "dirty-log protected");
        assertNull(Spte.violation(rw & ~(Spte.W | Spte.MMU_WRITABLE), 1), "write-tracked");
    }

    @Test
    void hugeLeavesCarryThePageSizeBitAndAnAlignedPfn() {
        long huge = Spte.makeLeaf(0x200, PageLevel.PG_2M, true, true);
        assertTrue(Spte.isLeaf(huge, 2));
        assertNull(Spte.violation(huge, 2));
        assertNotNull(Spte.violation(Spte.makeLeaf(0x201, 2, true, true), 2), "unaligned huge PFN");
        long child = Spte.makeSmall(huge, 1, 5);
        assertEquals(0x205, Spte.pfn(child));
        assertFalse((child & Spte.LARGE) != 0);
        assertEquals(huge & ~(Spte.PFN_MASK | Spte.LARGE), child & ~(Spte.PFN_MASK | Spte.LARGE), "same bits");
    }

    @Test
    void mmioSptesKeepTheGfnAndNineteenGenerationBits() {
        for (long gen : new long[] {0, 1, 0xff, 0x100, 0x7ffff, 0x12345}) {
            long spte = Spte.makeMmio(0xC0000, gen);
            assertTrue(Spte.isMmio(spte));
            assertFalse(Spte.isPresent(spte));
            assertEquals(gen, Spte.mmioGeneration(spte));
            assertEquals(0xC0000, Spte.mmioGfn(spte));
            assertNull(Spte.violation(spte, 1));
        }
        assertEquals(0x345, Spte.mmioGeneration(Spte.makeMmio(1, 0x80345)) & 0xfff, "bits above 19 dropped");
        assertEquals(0, Spte.mmioGeneration(Spte.makeMmio(1, 1L << 19)));
        // Low generation bits live in SPTE bits 3..10, high ones in 52..62.
        assertEquals(0xffL << 3, Spte.makeMmio(0, 0xff) & ~Spte.MMIO_VALUE);
        assertEquals(0x7ffL << 52, Spte.makeMmio(0, 0x7ff00) & ~Spte.MMIO_VALUE);
    }

    @Test
    void specialValuesAreNeitherPresentNorMmio() {
        for (long v : new long[] {Spte.NONPRESENT, Spte.FROZEN}) {
            assertFalse(Spte.isPresent(v));
            assertFalse(Spte.isMmio(v));
            assertEquals(0, v & Spte.RWX);
            assertEquals(0, Spte.pfn(v));
        }
        assertTrue(Spte.isPresent(Spte.makeNonLeaf(3)));
        assertFalse(Spte.isLeaf(Spte.makeNonLeaf(3), 2));
    }

    @Test
    void onlyClearingMmuWritableObligesAFlush() {
        long rw = Spte.makeLeaf(1, 1, true, true);
        assertFalse(Spte.leafChangeNeedsFlush(rw, rw & ~Spte.W), "dirty-log protection flushes later");
        assertTrue(Spte.leafChangeNeedsFlush(rw, rw & ~(Spte.W | Spte.MMU_WRITABLE)));
        assertTrue(Spte.leafChangeNeedsFlush(rw & ~Spte.W, rw & ~(Spte.W | Spte.MMU_WRITABLE)),
                "even when W was already clear (INV-A)");
        assertFalse(Spte.leafChangeNeedsFlush(rw, rw & ~Spte.ACCESSED));
        long mmio = Spte.makeMmio(5, 1 << 14);
        assertTrue((mmio & Spte.MMU_WRITABLE) != 0, "generation bit 14 lands on bit 58");
        assertFalse(Spte.leafChangeNeedsFlush(mmio, rw & ~Spte.MMU_WRITABLE), "an MMIO SPTE is never MMU-writable");
        assertTrue(Spte.leafChangeNeedsFlush(rw, Spte.makeMmio(5, 1 << 14)));
    }

    @Test
    void levelGeometry() {
        assertEquals(512, PageLevel.pages(2));
        assertEquals(0x1ff & (0xC0123L >>> 9), PageLevel.index(0xC0123L, 2));
        assertEquals(0x123, PageLevel.index(0xC0123L, 1));
        assertEquals(0xC0000L, PageLevel.round(0xC01FFL, 2));
    }
}
