package dev.guestmem.gmem;

import static dev.guestmem.memslot.KvmLimits.PAGE_SIZE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.memslot.GmemBinding;
import dev.guestmem.memslot.Memslot;
import dev.guestmem.memslot.MemslotFlags;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.junit.jupiter.api.Test;

/**
 * Punching holes in a guest_memfd bound to random slots, against a reference model that looks at one
 * page at a time: exactly the gfns backed by punched, bound pages are zapped (each in its own slot, with
 * the file's filter), nothing else; an invalidation window opens and closes once if any such page exists
 * and not at all otherwise; punched pages read back zero and the others keep their data. Bindings sit
 * at arbitrary page offsets, sometimes with slots whose gfns directly follow each other (so a zap
 * running past its slot lands in the next one), and punched ranges start before, end after, span
 * several bindings or miss them all; the statistics check that each shape is really generated.
 */
class PunchHoleInvalidationPropertyTest {
    /** A binding of {@code npages} pages at page {@code pgoff} to a slot at {@code baseGfn}. */
    record Binding(long pgoff, long npages, long baseGfn) {
    }

    /** A generated case: file size, bindings (disjoint, ascending), punched pages, file flags. */
    record Case(int filePages, List<Binding> bindings, long start, long length, long flags) {
    }

    @Property(tries = 300)
    void exactlyTheClampedGfnsAreZapped(@ForAll("cases") Case c) {
        RecordingTarget target = new RecordingTarget();
        GuestMemfd file = GuestMemfd.create(new Object(), c.filePages() * PAGE_SIZE, c.flags(), target);
        try {
            List<Memslot> slots = bindAll(file, c.bindings());
            MemorySegment memory = file.page(0).reinterpret(c.filePages() * PAGE_SIZE);
            for (int page = 0; page < c.filePages(); page++) {
                memory.set(ValueLayout.JAVA_LONG, page * PAGE_SIZE, 0x1000L + page);
            }
            assertEquals(0, file.fallocate(Fallocate.KEEP_SIZE | Fallocate.PUNCH_HOLE, c.start() * PAGE_SIZE,
                    c.length() * PAGE_SIZE));
            assertNull(mismatch(slots, c.start(), c.start() + c.length(), target.zaps));
            boolean anyBound = !expectedZaps(slots, c.start(), c.start() + c.length()).isEmpty();
            assertEquals(anyBound ? 1 : 0, target.begins, "begins");
            assertEquals(anyBound ? 1 : 0, target.ends, "ends");
            ZapFilter filter = ZapFilter.forGuestMemfd(c.flags());
            assertTrue(target.zaps.stream().allMatch(z -> z.filter() == filter), "filter of every zap");
            for (int page = 0; page < c.filePages(); page++) {
                boolean punched = page >= c.start() && page < c.start() + c.length();
                assertEquals(punched ? 0 : 0x1000L + page, memory.get(ValueLayout.JAVA_LONG, page * PAGE_SIZE),
                        "page " + page);
            }
            collectShapes(c);
        } finally {
            file.release();
            file.retire();
        }
    }

    private static List<Memslot> bindAll(GuestMemfd file, List<Binding> bindings) {
        List<Memslot> slots = new ArrayList<>();
        int id = 0;
        for (Binding b : bindings) {
            Memslot slot = new Memslot(0, id++, b.baseGfn(), b.npages(), MemslotFlags.GUEST_MEMFD, 0,
                    new GmemBinding(file, b.pgoff()));
            assertEquals(0, file.bind(slot));
            slots.add(slot);
        }
        return slots;
    }

    /** Slot id and gfn of every page the model says must be zapped, page by page. */
    static Set<String> expectedZaps(List<Memslot> slots, long start, long end) {
        Set<String> expected = new TreeSet<>();
        for (long page = start; page < end; page++) {
            for (Memslot s : slots) {
                long pgoff = s.gmem().pgoff();
                if (page >= pgoff && page < pgoff + s.npages()) {
                    expected.add(s.id() + ":" + Long.toHexString(s.baseGfn() + page - pgoff));
                }
            }
        }
        return expected;
    }

    /** A description of how {@code zaps} differ from the model, or null when they match exactly. */
    static String mismatch(List<Memslot> slots, long start, long end, List<RecordingTarget.Zap> zaps) {
        Set<String> actual = new TreeSet<>();
        Set<Integer> zappedSlots = new TreeSet<>();
        for (RecordingTarget.Zap z : zaps) {
            if (!zappedSlots.add(z.slot().id())) {
                return "slot " + z.slot().id() + " zapped twice";
            }
            for (long gfn = z.start(); Long.compareUnsigned(gfn, z.end()) < 0; gfn++) {
                if (!z.slot().contains(gfn)) {
                    return "gfn 0x" + Long.toHexString(gfn) + " zapped outside slot " + z.slot().id();
                }
                actual.add(z.slot().id() + ":" + Long.toHexString(gfn));
            }
        }
        Set<String> expected = expectedZaps(slots, start, end);
        return expected.equals(actual) ? null : "expected " + expected + ", zapped " + actual;
    }

    private static void collectShapes(Case c) {
        long start = c.start();
        long end = c.start() + c.length();
        int hit = 0;
        boolean startsBefore = false;
        boolean endsAfter = false;
        for (Binding b : c.bindings()) {
            long bEnd = b.pgoff() + b.npages();
            if (start < bEnd && b.pgoff() < end) {
                hit++;
                startsBefore |= start < b.pgoff();
                endsAfter |= end > bEnd;
            }
        }
        Statistics.label("starts before a binding").collect(startsBefore);
        Statistics.label("ends after a binding").collect(endsAfter);
        Statistics.label("spans two or more bindings").collect(hit >= 2);
        Statistics.label("misses every binding").collect(hit == 0);
        Statistics.label("goes past the end of the file").collect(end > c.filePages());
        Statistics.label("starts before a binding").coverage(k -> k.check(true).percentage(p -> p >= 10));
        Statistics.label("ends after a binding").coverage(k -> k.check(true).percentage(p -> p >= 10));
        Statistics.label("spans two or more bindings").coverage(k -> k.check(true).percentage(p -> p >= 10));
        Statistics.label("misses every binding").coverage(k -> k.check(true).percentage(p -> p >= 3));
        Statistics.label("goes past the end of the file").coverage(k -> k.check(true).percentage(p -> p >= 3));
    }

    @Provide
    Arbitrary<Case> cases() {
        Arbitrary<Integer> filePages = Arbitraries.integers().between(4, 32);
        // The punched range runs between two independent points, up to a few pages past the end of the file.
        return filePages.flatMap(pages -> Combinators.combine(bindings(pages),
                Arbitraries.longs().between(0, pages + 3), Arbitraries.longs().between(0, pages + 3),
                Arbitraries.of(0L, GuestMemfd.FLAG_MMAP, GuestMemfd.FLAG_MMAP | GuestMemfd.FLAG_INIT_SHARED))
                .as((bindings, a, b, flags) -> new Case(pages, bindings, Math.min(a, b), Math.abs(a - b) + 1, flags)));
    }

    /**
     * Disjoint bindings laid out from page 0 with gaps of 0..3 pages; each slot's gfns either directly
     * follow the previous slot's or start somewhere else.
     */
    private static Arbitrary<List<Binding>> bindings(int filePages) {
        Arbitrary<int[]> piece = Combinators.combine(Arbitraries.integers().between(0, 3),
                Arbitraries.integers().between(1, 10), Arbitraries.integers().between(0, 2))
                .as((gap, length, placement) -> new int[] {gap, length, placement});
        return piece.list().ofMinSize(2).ofMaxSize(6).map(pieces -> {
            List<Binding> result = new ArrayList<>();
            long page = 0;
            long nextGfn = 0x40000;
            for (int[] p : pieces) {
                long pgoff = page + p[0];
                long npages = Math.min(p[1], filePages - pgoff);
                if (npages <= 0) {
                    break;
                }
                long base = p[2] == 0 ? nextGfn : 0x80000L * (result.size() + 2) + p[2] * 7;
                result.add(new Binding(pgoff, npages, base));
                page = pgoff + npages;
                nextGfn = base + npages;
            }
            return result;
        });
    }

    /** The checker is not vacuous: the unclamped translation of a range is rejected. */
    @Test
    void theModelRejectsUnclampedZaps() {
        Object file = new Object();
        Memslot a = new Memslot(0, 0, 0x100, 4, MemslotFlags.GUEST_MEMFD, 0, new GmemBinding(file, 4));
        Memslot b = new Memslot(0, 1, 0x104, 4, MemslotFlags.GUEST_MEMFD, 0, new GmemBinding(file, 8));
        List<Memslot> slots = List.of(a, b);
        // Pages [6, 10): unclamped, slot a's zap is [0x102, 0x106), running into slot b's gfns.
        List<RecordingTarget.Zap> unclamped = List.of(new RecordingTarget.Zap(a, 0x102, 0x106, ZapFilter.PRIVATE),
                new RecordingTarget.Zap(b, 0x102, 0x106, ZapFilter.PRIVATE));
        assertNotNull(mismatch(slots, 6, 10, unclamped));
        List<RecordingTarget.Zap> clamped = List.of(new RecordingTarget.Zap(a, 0x102, 0x104, ZapFilter.PRIVATE),
                new RecordingTarget.Zap(b, 0x104, 0x106, ZapFilter.PRIVATE));
        assertNull(mismatch(slots, 6, 10, clamped));
        List<RecordingTarget.Zap> missing = List.of(clamped.get(0));
        assertNotNull(mismatch(slots, 6, 10, missing));
    }
}
