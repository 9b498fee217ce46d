package dev.guestmem.host;

import static dev.guestmem.host.HostMemory.PAGE_SIZE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * Random programs of mmap/munmap/mprotect/madvise and accesses run against the real implementation and
 * against {@link HostModel}; every result, every invalidation and the observable state after every step
 * must agree. Addresses are chosen around the mappings created so far, one page before to a few pages
 * past them, so ranges cross mapping ends, holes and neighbouring mappings (and, harmlessly, memory the
 * JVM owns, which both sides treat as unmapped).
 */
class HostMemoryModelTest {

    /** One step of a program; {@code target} picks one of the mappings created so far. */
    sealed interface Op {
    }

    record Mmap(int pages, int trim) implements Op {
    }

    record Munmap(int target, int offPages, long length, int misalign) implements Op {
    }

    record Mprotect(int target, int offPages, long length, int misalign, Protection protection) implements Op {
    }

    record Madvise(int target, int offPages, long length, int misalign, Advice advice) implements Op {
    }

    record Write64(int target, int offPages, int word, long value) implements Op {
    }

    record Read64(int target, int offPages, int word) implements Op {
    }

    record BulkWrite(int target, int offWords, int words, long seed) implements Op {
    }

    record BulkRead(int target, int offWords, int words) implements Op {
    }

    record Resolve(int target, int offPages, int word, boolean write) implements Op {
    }

    /** Words of a page that programs touch: the first few and the last. */
    private static final int[] WORDS = {0, 1, 2, 511};

    @Property(tries = 200)
    void implementationAgreesWithTheModel(@ForAll("programs") List<Op> program) {
        List<HostModel.Event> seen = new ArrayList<>();
        InvalidationListener recorder = new InvalidationListener() {
            @Override
            public void invalidateRangeStart(long start, long end, InvalidationCause cause) {
                seen.add(new HostModel.Event("start", start, end, cause));
            }

            @Override
            public void invalidateRangeEnd(long start, long end, InvalidationCause cause) {
                seen.add(new HostModel.Event("end", start, end, cause));
            }
        };
        HostModel model = new HostModel();
        List<Long> bases = new ArrayList<>();
        HostMemory host = new HostMemory();
        try {
            host.addInvalidationListener(recorder);
            for (Op op : program) {
                step(host, model, bases, op);
                assertEquals(model.events(), seen, () -> "invalidations after " + op);
                assertSameState(host, model, bases, op);
            }
        } finally {
            host.close();
        }
        model.close();
        assertEquals(model.events(), seen, "invalidations of close");
    }

    private static void step(HostMemory host, HostModel model, List<Long> bases, Op op) {
        if (op instanceof Mmap(int pages, int trim)) {
            long length = pages * PAGE_SIZE - trim;
            long hva = host.mmap(length);
            assertTrue(hva > 0, "mmap failed: " + hva);
            model.mapped(hva, length);
            bases.add(hva);
            return;
        }
        if (bases.isEmpty()) {
            return;
        }
        switch (op) {
            case Munmap(int t, int off, long length, int mis) -> {
                long hva = address(bases, t, off) + mis;
                assertEquals(model.munmap(hva, length), host.munmap(hva, length), op::toString);
            }
            case Mprotect(int t, int off, long length, int mis, Protection protection) -> {
                long hva = address(bases, t, off) + mis;
                assertEquals(model.mprotect(hva, length, protection), host.mprotect(hva, length, protection),
                        op::toString);
            }
            case Madvise(int t, int off, long length, int mis, Advice advice) -> {
                long hva = address(bases, t, off) + mis;
                assertEquals(model.madvise(hva, length, advice), host.madvise(hva, length, advice), op::toString);
            }
            case Write64(int t, int off, int word, long value) -> {
                long hva = address(bases, t, off) + 8L * word;
                assertEquals(model.write64(hva, value), outcome(() -> {
                    host.write64(hva, value);
                    return 0L;
                }), op::toString);
            }
            case Read64(int t, int off, int word) -> {
                long hva = address(bases, t, off) + 8L * word;
                assertEquals(model.read64(hva), outcome(() -> host.read64(hva)), op::toString);
            }
            case BulkWrite(int t, int offWords, int words, long seed) -> {
                long hva = bases.get(Math.floorMod(t, bases.size())) + 8L * offWords;
                long[] values = new long[words];
                for (int i = 0; i < words; i++) {
                    values[i] = seed + i;
                }
                assertEquals(model.write(hva, values), outcome(() -> {
                    host.write(hva, MemorySegment.ofArray(values));
                    return 0L;
                }), op::toString);
            }
            case BulkRead(int t, int offWords, int words) -> {
                long hva = bases.get(Math.floorMod(t, bases.size())) + 8L * offWords;
                long[] values = new long[words];
                HostModel.Outcome expected = model.checkRange(hva, 8L * words, false);
                HostModel.Outcome actual = outcome(() -> {
                    host.read(hva, MemorySegment.ofArray(values));
                    return 0L;
                });
                assertEquals(expected == null ? HostModel.Outcome.ok(0) : expected, actual, op::toString);
                if (expected == null) {
                    for (int i = 0; i < words; i++) {
                        assertEquals(model.read64(hva + 8L * i).value(), values[i], op::toString);
                    }
                }
            }
            case Resolve(int t, int off, int word, boolean write) -> {
                long hva = address(bases, t, off) + 8L * word;
                HostModel.Outcome actual = outcome(() -> {
                    HostPage page = host.resolvePage(hva, write);
                    assertEquals(hva & -PAGE_SIZE, page.hva());
                    assertEquals(host.read64(hva & -8), page.segment().get(ValueLayout.JAVA_LONG, hva & 0xff8));
                    return page.writable() ? 1L : 0L;
                });
                assertEquals(model.resolvePage(hva, write), actual, op::toString);
            }
            case Mmap m -> throw new AssertionError("handled above: " + m);
        }
    }

    private static long address(List<Long> bases, int target, int offPages) {
        return bases.get(Math.floorMod(target, bases.size())) + offPages * PAGE_SIZE;
    }

    private static HostModel.Outcome outcome(Supplier<Long> access) {
        try {
            return HostModel.Outcome.ok(access.get());
        } catch (HostFault fault) {
            return HostModel.Outcome.fault(fault.kind(), fault.hva());
        }
    }

    /** Compares everything observable about the pages around every mapping created so far. */
    private static void assertSameState(HostMemory host, HostModel model, List<Long> bases, Op after) {
        for (long base : bases) {
            for (long page = base - PAGE_SIZE; page <= base + 6 * PAGE_SIZE; page += PAGE_SIZE) {
                long p = page;
                Supplier<String> where = () -> "page 0x" + Long.toHexString(p) + " after " + after;
                assertEquals(model.protectionAt(page), host.protectionAt(page), where);
                assertEquals(model.mappingAt(page), host.mappingAt(page + 8), where);
                assertEquals(model.isHugeAdvised(page), host.isHugeAdvised(page), where);
                assertEquals(model.isWrittenSinceDiscard(page), host.isWrittenSinceDiscard(page), where);
                for (int word : WORDS) {
                    long hva = page + 8L * word;
                    assertEquals(model.read64(hva), outcome(() -> host.read64(hva)), where);
                }
            }
        }
    }

    @Provide
    Arbitrary<List<Op>> programs() {
        Arbitrary<Integer> target = Arbitraries.integers().between(0, 7);
        Arbitrary<Integer> offPages = Arbitraries.integers().between(-1, 5);
        Arbitrary<Long> length = Combinators.combine(Arbitraries.integers().between(0, 6),
                Arbitraries.of(0, 0, 0, 1, -1)).as((pages, tweak) -> Math.max(0, pages * PAGE_SIZE + tweak));
        Arbitrary<Integer> misalign = Arbitraries.frequency(Tuple.of(12, 0), Tuple.of(1, 8));
        Arbitrary<Integer> word = Arbitraries.of(0, 1, 2, 511);

        Arbitrary<Op> mmap = Combinators.combine(Arbitraries.integers().between(1, 4), Arbitraries.of(0, 1, 4095))
                .as(Mmap::new);
        Arbitrary<Op> munmap = Combinators.combine(target, offPages, length, misalign).as(Munmap::new);
        Arbitrary<Op> mprotect = Combinators.combine(target, offPages, length, misalign,
                Arbitraries.of(Protection.class)).as(Mprotect::new);
        Arbitrary<Op> madvise = Combinators.combine(target, offPages, length, misalign,
                Arbitraries.frequency(Tuple.of(3, Advice.DONTNEED), Tuple.of(1, Advice.HUGEPAGE),
                        Tuple.of(1, Advice.NOHUGEPAGE))).as(Madvise::new);
        Arbitrary<Op> write64 = Combinators.combine(target, offPages, word, Arbitraries.longs()).as(Write64::new);
        Arbitrary<Op> read64 = Combinators.combine(target, offPages, word).as(Read64::new);
        Arbitrary<Integer> offWords = Arbitraries.integers().between(-600, 5 * 512);
        Arbitrary<Integer> words = Arbitraries.integers().between(1, 1100);
        Arbitrary<Op> bulkWrite = Combinators.combine(target, offWords, words, Arbitraries.longs())
                .as(BulkWrite::new);
        Arbitrary<Op> bulkRead = Combinators.combine(target, offWords, words).as(BulkRead::new);
        Arbitrary<Op> resolve = Combinators.combine(target, offPages, word, Arbitraries.of(true, false))
                .as(Resolve::new);

        Arbitrary<Op> op = Arbitraries.frequencyOf(
                Tuple.of(3, mmap), Tuple.of(2, munmap), Tuple.of(4, mprotect), Tuple.of(3, madvise),
                Tuple.of(5, write64), Tuple.of(3, read64), Tuple.of(2, bulkWrite), Tuple.of(2, bulkRead),
                Tuple.of(3, resolve));
        return Combinators.combine(mmap, op.list().ofMaxSize(30)).as((first, rest) -> {
            List<Op> all = new ArrayList<>();
            all.add(first);
            all.addAll(rest);
            return all;
        });
    }
}
