package dev.guestmem.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.guestmem.trace.TraceParser;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Each exclusion rule is found where it is broken, and only there. */
class RuleCheckerTest {
    private static Optional<ExclusionRule> broken(String text) {
        return RuleChecker.firstViolation(TraceParser.parse("t.gmt", text)).map(RuleViolation::rule);
    }

    private static void breaks(ExclusionRule rule, String text) {
        assertEquals(Optional.of(rule), broken(text), text);
    }

    private static void keeps(String text) {
        assertEquals(Optional.empty(), broken(text), text);
    }

    @Test
    void reservedSlotIdInAnyAddressSpaceAndAnyRequest() {
        breaks(ExclusionRule.RESERVED_SLOT, "mmap a 0x1000\nregion 32763 0 0 0x1000 a\n");
        breaks(ExclusionRule.RESERVED_SLOT, "region 32763 0 0 0 0\n");
        breaks(ExclusionRule.RESERVED_SLOT, "region2 98299 0 0 0x1000 0 -1 0\n");
        keeps("mmap a 0x1000\nregion 32762 0 0 0x1000 a\nregion 32764 0 0 0x1000 a\n");
    }

    @Test
    void reservedWindowForSlotsThatCouldExistAndForAccesses() {
        breaks(ExclusionRule.RESERVED_GPAS, "mmap a 0x2000\nregion 1 0 0xffcff000 0x2000 a\n");
        breaks(ExclusionRule.RESERVED_GPAS, "mmap a 0x1000\nregion 1 0 0xffe07000 0x1000 a\n");
        breaks(ExclusionRule.RESERVED_GPAS, "r 0xffd00000\n");
        breaks(ExclusionRule.RESERVED_GPAS, "w 0xffe07ff8 1\n");
        keeps("mmap a 0x1000\nregion 1 0 0xffcff000 0x1000 a\nregion 2 0 0xffe08000 0x1000 a\nr 0xffcffff8\n"
                + "r 0xffe08000\n");
        // Refused by the argument checks before any slot exists: misaligned, wrapping, too many pages.
        keeps("mmap a 0x1000\nregion 1 0 0xffd00800 0x1000 a\nregion 1 0 0xffffffffffff0000 0x20000 a\n"
                + "region 1 0 0 0x80000000000 0\nregion 1 0 0xffd00000 0 a\n");
    }

    @Test
    void accessesBelowFourGib() {
        breaks(ExclusionRule.ACCESSES_BELOW_4GIB, "r 0x100000000\n");
        keeps("w 0xfffffff8 1\n");
    }

    @Test
    void defaultVmOnly() {
        breaks(ExclusionRule.DEFAULT_VM_ONLY, "vm sw-protected\n");
        keeps("vm default\nr 0\n");
    }

    @Test
    void munmapLeavesNameSlotsAndLaterMappingsFree() {
        // munmap keeps the addresses reserved, so both replays fault through a stale slot and reuse the range.
        keeps("mmap a 0x2000\nregion 1 0 0x100000 0x2000 a\nmunmap a\nr 0x101ff8\nregion 2 0 0x200000 0x1000 a\n"
                + "w 0x200000 1\nmmap b 0x1000\nhw a 1\ngmem g 0x1000 1\ngmem-mmap m g 0x1000\n");
    }

    @Test
    void madviseKeepsToItsMapping() {
        keeps("mmap a 0x2000\nmadvise a 0 0x2000 hugepage\nmadvise a 0x1000 0x1000 nohugepage\n");
        breaks(ExclusionRule.HVA_IN_MAPPING, "mmap a 0x2000\nmadvise a 0x1000 0x2000 hugepage\n");
    }

    @Test
    void hvaRangesStayInTheirMapping() {
        breaks(ExclusionRule.HVA_IN_MAPPING, "mmap a 0x2000\nregion 1 0 0 0x3000 a\n");
        breaks(ExclusionRule.HVA_IN_MAPPING, "mmap a 0x2000\nregion 1 0 0 0x1000 a+0x2000\n");
        breaks(ExclusionRule.HVA_IN_MAPPING, "mmap a 0x2000\nmadvise a 0x1000 0x1001 dontneed\n");
        breaks(ExclusionRule.HVA_IN_MAPPING, "mmap a 0x2000\nmprotect a 0 0x3000 ro\n");
        breaks(ExclusionRule.HVA_IN_MAPPING, "mmap a 0x2000\nhw a+0x1ff9 1\n");
        breaks(ExclusionRule.HVA_IN_MAPPING, "mmap a 0x1000\nmmap a 0\nhr a\n");
        // The mapping is whole pages; misaligned and empty requests are refused or do nothing.
        keeps("mmap a 0x1800\nregion 1 0 0 0x2000 a\nregion 2 0 0x10000 0x1000 a+0x1\nmadvise a 0x1000 0x1000 dontneed\n"
                + "mprotect a 0x800 0x9000 ro\nmadvise a 0x1000 0 dontneed\nhr a+0x1ff8\nregion 1 0 0 0 a+0x5000\n");
    }

    @Test
    void rawHvasNeverMapped() {
        breaks(ExclusionRule.RAW_HVAS_NEVER_MAPPED, "region 1 0 0 0x2000 0\n");
        breaks(ExclusionRule.RAW_HVAS_NEVER_MAPPED, "region 1 0 0 0x1000 0x7fffffffe000\n");
        breaks(ExclusionRule.RAW_HVAS_NEVER_MAPPED, "hr 0x7f0000000000\n");
        keeps("region 1 0 0 0x1000 0\nregion 2 0 0x1000 0x2000 0x7ffffffff000\nregion 3 0 0x4000 0x1000 0x10\n"
                + "hr 0xff8\nhw 0xffff800000000000 1\n");
    }

    /** Slot 0 at gfns 0x10-0x2f over a host-written page 0, its group touched at page 3 before logging. */
    private static final String PREFETCHED = "mmap b 0x20000\nhw b 0x1\nregion 0 0 0x10000 0x20000 b\nr 0x13008\n";

    @Test
    void shadowMmuPrefetchSeed223550() {
        // Seed 223550 cut down: the read of page 3 prefetched page 0; logging write-protected but kept it.
        breaks(ExclusionRule.SHADOW_MMU_PREFETCH, PREFETCHED + "region 0 1 0x10000 0x20000 b\nr 0x10fa0\n");
        // A store to a group-mate counts as much as a load; a load of a gpa in no slot too (an MMIO SPTE).
        breaks(ExclusionRule.SHADOW_MMU_PREFETCH, "mmap b 0x20000\nregion 0 0 0x10000 0x20000 b\nw 0x17ff8 1\n"
                + "region 0 1 0x10000 0x20000 b\nr 0x16000\n");
        breaks(ExclusionRule.SHADOW_MMU_PREFETCH, "mmap b 0x2000\nregion 0 0 0x10000 0x2000 b\nr 0x12000\n"
                + "region 0 1 0x10000 0x2000 b\nr 0x11000\n");
    }

    @Test
    void shadowMmuPrefetchNarrowlyKept() {
        String logging = PREFETCHED + "region 0 1 0x10000 0x20000 b\n";
        // The faulting page itself; a page of the next group; a page the guest stored to since.
        keeps(logging + "r 0x13000\nr 0x18000\nw 0x10000 2\nr 0x10fa0\n");
        // A slot that logged from its creation on: nothing was prefetched into it.
        keeps("mmap b 0x20000\nhw b 0x1\nregion 0 1 0x10000 0x20000 b\nr 0x13008\nr 0x10fa0\n");
        // A read-only slot is never prefetched into; it cannot start logging later without a move either.
        keeps("mmap b 0x20000\nregion 0 2 0x10000 0x20000 b\nr 0x13008\nregion 0 3 0x10000 0x20000 b\nr 0x10000\n");
        // A move or a deletion zaps the prefetched SPTEs.
        keeps(PREFETCHED + "region 0 1 0x40000 0x20000 b\nr 0x40000\nregion 0 1 0x10000 0x20000 b\nr 0x10000\n");
        keeps(PREFETCHED + "region 0 0 0 0 0\nregion 0 1 0x10000 0x20000 b\nr 0x10000\n");
        // The toggle is refused (another size), so the slot does not log; a refused creation changes nothing.
        keeps(PREFETCHED + "region 0 1 0x10000 0x10000 b\nr 0x10000\nregion 1 1 0x10000 0x1000 b\nr 0x10000\n");
        // Logging switched off again: a load in a slot that does not log maps the page as the prefetch did.
        keeps(logging + "region 0 0 0x10000 0x20000 b\nr 0x10000\nregion 0 1 0x10000 0x20000 b\nr 0x10000\n");
    }

    @Test
    void shadowMmuPrefetchWhereTheCheckerCannotKnow() {
        // After a rebinding the toggle's hva may be the old address (a reused reservation) or not: it may log.
        breaks(ExclusionRule.SHADOW_MMU_PREFETCH, PREFETCHED + "munmap b\nmmap b 0x20000\n"
                + "region 0 1 0x10000 0x20000 b\nr 0x10000\n");
        // Slot 5 may have moved to 0x90000 (as above) and then lies in the way of the move, which would
        // have zapped the page; without the doubt the move succeeds.
        String slot5 = "mmap a 0x1000\nregion 5 0 0x80000 0x1000 a\nmunmap a\nmmap a 0x1000\n";
        String move = "region 0 1 0x10000 0x20000 b\nregion 0 1 0x88000 0x20000 b\nr 0x10000\n";
        breaks(ExclusionRule.SHADOW_MMU_PREFETCH, slot5 + "region 5 0 0x90000 0x1000 a\n" + PREFETCHED + move);
        keeps(slot5 + PREFETCHED + move);
        // A host invalidation zaps the prefetched SPTE too, but the checker does not follow host memory.
        breaks(ExclusionRule.SHADOW_MMU_PREFETCH, PREFETCHED + "madvise b 0 0x1000 dontneed\n"
                + "region 0 1 0x10000 0x20000 b\nr 0x10000\n");
    }

    @Test
    void rawGuestMemfdsNeverOpen() {
        breaks(ExclusionRule.RAW_FDS_NEVER_OPEN, "region2 1 4 0 0x1000 0 3 0\n");
        keeps("region2 1 4 0 0x1000 0 -1 0\nregion2 1 4 0 0x1000 0 1048576 0\n");
    }
}
