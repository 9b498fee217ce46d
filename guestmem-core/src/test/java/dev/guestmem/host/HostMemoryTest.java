package dev.guestmem.host;

import static dev.guestmem.host.HostMemory.PAGE_SIZE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.Errno;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class HostMemoryTest {
    private HostMemory host;

    @BeforeEach
    void setUp() {
        host = new HostMemory();
    }

    @AfterEach
    void tearDown() {
        host.close();
    }

    private long map(long length) {
        long hva = host.mmap(length);
        assertTrue(hva > 0, "mmap failed: " + hva);
        return hva;
    }

    private static HostFault.Kind faultOf(Runnable access) {
        return assertThrows(HostFault.class, access::run).kind();
    }

    @Test
    void mmapReturnsAPageAlignedZeroFilledReadWriteMapping() {
        long hva = map(4 * PAGE_SIZE);
        assertEquals(0, hva & (PAGE_SIZE - 1));
        assertEquals(0, host.read64(hva));
        assertEquals(0, host.read64(hva + 4 * PAGE_SIZE - 8));
        assertEquals(Optional.of(new MappingInfo(hva, 4 * PAGE_SIZE)), host.mappingAt(hva + 5000));
        assertEquals(Optional.of(Protection.READ_WRITE), host.protectionAt(hva));
    }

    @Test
    void mmapRoundsTheLengthUpToWholePages() {
        long hva = map(1);
        assertEquals(PAGE_SIZE, host.mappingAt(hva).orElseThrow().length());
        host.write64(hva + PAGE_SIZE - 8, 7);
        assertEquals(7, host.read64(hva + PAGE_SIZE - 8));
    }

    @Test
    void mmapEachMakesSeparateMappingsBackToBackWithOneCall() {
        long[] hvas = host.mmapEach(PAGE_SIZE, 3 * PAGE_SIZE - 5, 2 * PAGE_SIZE);
        assertEquals(3, hvas.length);
        assertEquals(hvas[0] + PAGE_SIZE, hvas[1]);
        assertEquals(hvas[1] + 3 * PAGE_SIZE, hvas[2], "lengths round up to pages");
        assertEquals(Optional.of(new MappingInfo(hvas[1], 3 * PAGE_SIZE)), host.mappingAt(hvas[1] + PAGE_SIZE));
        host.write64(hvas[2], 5);
        assertEquals(0, host.munmap(hvas[1], 3 * PAGE_SIZE));
        assertEquals(HostFault.Kind.UNMAPPED, faultOf(() -> host.read64(hvas[1])));
        assertEquals(0, host.read64(hvas[0]));
        assertEquals(5, host.read64(hvas[2]), "a neighbour keeps its data");
        assertEquals(0, host.mmapEach().length);
        assertThrows(IllegalArgumentException.class, () -> host.mmapEach(PAGE_SIZE, 0));
        assertThrows(IllegalArgumentException.class, () -> host.mmapEach(HostMemory.TASK_SIZE, PAGE_SIZE));
    }

    @Test
    void mmapRejectsZeroAndImpossibleLengths() {
        assertEquals(-Errno.EINVAL, host.mmap(0));
        assertEquals(-Errno.ENOMEM, host.mmap(-1L)); // PAGE_ALIGN wraps to 0
        assertEquals(-Errno.ENOMEM, host.mmap(HostMemory.TASK_SIZE + PAGE_SIZE));
    }

    @Test
    void write64ThenRead64RoundTripsAndMarksThePageWritten() {
        long hva = map(2 * PAGE_SIZE);
        assertFalse(host.isWrittenSinceDiscard(hva + PAGE_SIZE));
        host.write64(hva + PAGE_SIZE + 16, 0x1122_3344_5566_7788L);
        assertEquals(0x1122_3344_5566_7788L, host.read64(hva + PAGE_SIZE + 16));
        assertTrue(host.isWrittenSinceDiscard(hva + PAGE_SIZE));
        assertFalse(host.isWrittenSinceDiscard(hva));
    }

    @Test
    void unalignedWordAccessesAreRejected() {
        long hva = map(PAGE_SIZE);
        assertThrows(IllegalArgumentException.class, () -> host.read64(hva + 4));
        assertThrows(IllegalArgumentException.class, () -> host.write64(hva + 1, 0));
    }

    @Test
    void bulkWriteAndReadRoundTripAcrossPages() {
        long hva = map(3 * PAGE_SIZE);
        byte[] data = new byte[2 * (int) PAGE_SIZE];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 31 + 7);
        }
        host.write(hva + 100, MemorySegment.ofArray(data));
        byte[] back = new byte[data.length];
        host.read(hva + 100, MemorySegment.ofArray(back));
        assertArrayEquals(data, back);
        assertTrue(host.isWrittenSinceDiscard(hva));
        assertTrue(host.isWrittenSinceDiscard(hva + 2 * PAGE_SIZE));
    }

    @Test
    void bulkAccessFaultsBeforeTouchingAnythingWhenPartOfTheRangeIsUnmapped() {
        long hva = map(2 * PAGE_SIZE);
        assertEquals(0, host.munmap(hva + PAGE_SIZE, PAGE_SIZE));
        byte[] data = new byte[(int) PAGE_SIZE];
        java.util.Arrays.fill(data, (byte) 0x5a);
        HostFault fault = assertThrows(HostFault.class, () -> host.write(hva + 8, MemorySegment.ofArray(data)));
        assertEquals(HostFault.Kind.UNMAPPED, fault.kind());
        assertEquals(hva + PAGE_SIZE, fault.hva());
        assertEquals(0, host.read64(hva + 8), "no byte may be written before the fault");
        assertFalse(host.isWrittenSinceDiscard(hva));

        byte[] dst = new byte[(int) PAGE_SIZE];
        java.util.Arrays.fill(dst, (byte) 1);
        assertThrows(HostFault.class, () -> host.read(hva + 8, MemorySegment.ofArray(dst)));
        assertEquals(1, dst[0], "destination untouched");
    }

    @Test
    void bulkAccessesMaySpanAdjacentMappingsButNotAProtectedPage() {
        long hva = map(3 * PAGE_SIZE);
        // Split into three areas with different protections; the first two stay writable.
        assertEquals(0, host.mprotect(hva + 2 * PAGE_SIZE, PAGE_SIZE, Protection.READ));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocate(2 * PAGE_SIZE);
            src.fill((byte) 3);
            host.write(hva, src);
            assertEquals(0x0303030303030303L, host.read64(hva + 2 * PAGE_SIZE - 8));
            MemorySegment more = arena.allocate(16);
            HostFault fault = assertThrows(HostFault.class, () -> host.write(hva + 2 * PAGE_SIZE - 8, more));
            assertEquals(HostFault.Kind.PROTECTION, fault.kind());
            assertEquals(hva + 2 * PAGE_SIZE, fault.hva());
            MemorySegment dst = arena.allocate(3 * PAGE_SIZE);
            host.read(hva, dst); // reading the read-only page is fine
            assertEquals(3, dst.get(ValueLayout.JAVA_BYTE, 0));
            assertEquals(0, dst.get(ValueLayout.JAVA_BYTE, 2 * PAGE_SIZE));
        }
    }

    @Test
    void dontneedDiscardsDataAndWrittenState() {
        long hva = map(2 * PAGE_SIZE);
        host.write64(hva, 42);
        host.write64(hva + PAGE_SIZE, 43);
        assertEquals(0, host.madvise(hva, PAGE_SIZE, Advice.DONTNEED));
        assertEquals(0, host.read64(hva));
        assertFalse(host.isWrittenSinceDiscard(hva));
        assertEquals(43, host.read64(hva + PAGE_SIZE), "the page outside the range keeps its data");
        assertTrue(host.isWrittenSinceDiscard(hva + PAGE_SIZE));
        host.write64(hva, 44);
        assertEquals(44, host.read64(hva), "the discarded page is still mapped and writable");
    }

    @Test
    void dontneedOfAWrittenPageAmongUnwrittenOnesStillReachesIt() {
        long hva = map(8 * PAGE_SIZE);
        host.read64(hva); // read only: the zero page
        host.write64(hva + 5 * PAGE_SIZE, 7);
        assertEquals(0, host.madvise(hva, 8 * PAGE_SIZE, Advice.DONTNEED));
        assertEquals(0, host.read64(hva + 5 * PAGE_SIZE));
        assertEquals(0, host.madvise(hva, 8 * PAGE_SIZE, Advice.DONTNEED), "nothing written: still a success");
        assertEquals(0, host.read64(hva));
    }

    @Test
    void withUntrackedWritersEveryDiscardReachesTheKernel() {
        long hva = map(2 * PAGE_SIZE);
        host.allowUntrackedWriters();
        // A store the registry never hears of, as a real KVM guest makes.
        MemorySegment.ofAddress(hva + PAGE_SIZE).reinterpret(8).set(ValueLayout.JAVA_LONG, 0, 99L);
        assertEquals(99, host.read64(hva + PAGE_SIZE));
        assertFalse(host.isWrittenSinceDiscard(hva + PAGE_SIZE));
        assertEquals(0, host.madvise(hva, 2 * PAGE_SIZE, Advice.DONTNEED));
        assertEquals(0, host.read64(hva + PAGE_SIZE));
    }

    @Test
    void readOnlyProtectionFaultsWritesButNotReadsAndReadWriteRestoresWrites() {
        long hva = map(PAGE_SIZE);
        host.write64(hva, 5);
        assertEquals(0, host.mprotect(hva, PAGE_SIZE, Protection.READ));
        assertEquals(HostFault.Kind.PROTECTION, faultOf(() -> host.write64(hva, 6)));
        assertEquals(5, host.read64(hva));

        assertEquals(0, host.mprotect(hva, PAGE_SIZE, Protection.NONE));
        assertEquals(HostFault.Kind.PROTECTION, faultOf(() -> host.read64(hva)));
        assertEquals(HostFault.Kind.PROTECTION, faultOf(() -> host.resolvePage(hva, false)));

        assertEquals(0, host.mprotect(hva, PAGE_SIZE, Protection.READ_WRITE));
        assertEquals(5, host.read64(hva), "mprotect keeps the data");
        host.write64(hva, 6);
        assertEquals(6, host.read64(hva));
    }

    @Test
    void partialMprotectSplitsTheMappingAndMergesItBack() {
        long hva = map(4 * PAGE_SIZE);
        assertEquals(0, host.mprotect(hva + PAGE_SIZE, 2 * PAGE_SIZE, Protection.READ));
        assertEquals(3, host.areaCount());
        host.write64(hva, 1);
        host.write64(hva + 3 * PAGE_SIZE, 4);
        assertEquals(HostFault.Kind.PROTECTION, faultOf(() -> host.write64(hva + PAGE_SIZE, 2)));
        assertEquals(HostFault.Kind.PROTECTION, faultOf(() -> host.write64(hva + 3 * PAGE_SIZE - 8, 3)));
        assertEquals(new MappingInfo(hva, 4 * PAGE_SIZE), host.mappingAt(hva + 2 * PAGE_SIZE).orElseThrow());

        assertEquals(0, host.mprotect(hva + PAGE_SIZE, 2 * PAGE_SIZE, Protection.READ_WRITE));
        assertEquals(1, host.areaCount(), "equal neighbours are merged again");
        host.write64(hva + PAGE_SIZE, 2);
        assertEquals(2, host.read64(hva + PAGE_SIZE));
    }

    @Test
    void partialMunmapLeavesAHoleThatFaultsUnmappedAndTheRestUsable() {
        long hva = map(4 * PAGE_SIZE);
        host.write64(hva, 1);
        host.write64(hva + 3 * PAGE_SIZE, 4);
        assertEquals(0, host.munmap(hva + PAGE_SIZE, 2 * PAGE_SIZE));
        assertEquals(HostFault.Kind.UNMAPPED, faultOf(() -> host.read64(hva + PAGE_SIZE)));
        assertEquals(HostFault.Kind.UNMAPPED, faultOf(() -> host.write64(hva + 2 * PAGE_SIZE, 0)));
        assertEquals(HostFault.Kind.UNMAPPED, faultOf(() -> host.resolvePage(hva + PAGE_SIZE + 8, true)));
        assertEquals(1, host.read64(hva));
        assertEquals(4, host.read64(hva + 3 * PAGE_SIZE));
        host.write64(hva + 3 * PAGE_SIZE + 8, 5);
        assertEquals(new MappingInfo(hva, PAGE_SIZE), host.mappingAt(hva).orElseThrow());
        assertEquals(new MappingInfo(hva + 3 * PAGE_SIZE, PAGE_SIZE), host.mappingAt(hva + 3 * PAGE_SIZE).orElseThrow());
        assertEquals(Optional.empty(), host.mappingAt(hva + PAGE_SIZE));
    }

    @Test
    void munmapOfUnmappedPagesSucceedsAndAFreshMappingIsZeroAndUnwritten() {
        long hva = map(2 * PAGE_SIZE);
        host.write64(hva, 9);
        assertEquals(0, host.munmap(hva, 2 * PAGE_SIZE));
        assertEquals(0, host.munmap(hva, 2 * PAGE_SIZE), "unmapping nothing is fine");
        assertFalse(host.isWrittenSinceDiscard(hva));
        long again = map(2 * PAGE_SIZE);
        assertEquals(0, host.read64(again));
        assertFalse(host.isWrittenSinceDiscard(again));
    }

    @Test
    void argumentErrorsFollowLinux() {
        long hva = map(2 * PAGE_SIZE);
        assertEquals(Errno.EINVAL, host.munmap(hva + 8, PAGE_SIZE));
        assertEquals(Errno.EINVAL, host.munmap(hva, 0));
        assertEquals(Errno.EINVAL, host.munmap(HostMemory.TASK_SIZE + PAGE_SIZE, PAGE_SIZE));
        assertEquals(Errno.EINVAL, host.munmap(hva, -1L));
        assertEquals(Errno.EINVAL, host.madvise(hva + 8, PAGE_SIZE, Advice.DONTNEED));
        assertEquals(Errno.EINVAL, host.madvise(hva + 8, 0, Advice.DONTNEED));
        assertEquals(0, host.madvise(hva, 0, Advice.DONTNEED));
        assertEquals(Errno.EINVAL, host.madvise(hva, -1L, Advice.DONTNEED));
        assertEquals(Errno.EINVAL, host.mprotect(hva + 8, PAGE_SIZE, Protection.READ));
        assertEquals(0, host.mprotect(hva, 0, Protection.NONE));
        assertEquals(Errno.ENOMEM, host.mprotect(hva, -1L, Protection.READ));
        assertEquals(Optional.of(Protection.READ_WRITE), host.protectionAt(hva), "failed calls change nothing");
    }

    @Test
    void mprotectAcrossAHoleChangesThePrefixAndReportsEnomem() {
        long hva = map(3 * PAGE_SIZE);
        assertEquals(0, host.munmap(hva + PAGE_SIZE, PAGE_SIZE));
        assertEquals(Errno.ENOMEM, host.mprotect(hva, 3 * PAGE_SIZE, Protection.READ));
        assertEquals(Optional.of(Protection.READ), host.protectionAt(hva), "Linux applies it up to the hole");
        assertEquals(Optional.of(Protection.READ_WRITE), host.protectionAt(hva + 2 * PAGE_SIZE));
        assertEquals(Errno.ENOMEM, host.mprotect(hva + PAGE_SIZE, 2 * PAGE_SIZE, Protection.NONE));
        assertEquals(Optional.of(Protection.READ_WRITE), host.protectionAt(hva + 2 * PAGE_SIZE),
                "a range starting in a hole changes nothing");
    }

    @Test
    void madviseAcrossAHoleAppliesToEveryMappedPartAndReportsEnomem() {
        long hva = map(3 * PAGE_SIZE);
        host.write64(hva, 1);
        host.write64(hva + 2 * PAGE_SIZE, 3);
        assertEquals(0, host.munmap(hva + PAGE_SIZE, PAGE_SIZE));
        assertEquals(Errno.ENOMEM, host.madvise(hva, 3 * PAGE_SIZE, Advice.DONTNEED));
        assertEquals(0, host.read64(hva));
        assertEquals(0, host.read64(hva + 2 * PAGE_SIZE));
        assertEquals(Errno.ENOMEM, host.madvise(hva + PAGE_SIZE, PAGE_SIZE, Advice.DONTNEED));
    }

    @Test
    void hugeAdviceIsRecordedPerRange() {
        long hva = map(4 * PAGE_SIZE);
        assertFalse(host.isHugeAdvised(hva));
        assertEquals(0, host.madvise(hva + PAGE_SIZE, 2 * PAGE_SIZE, Advice.HUGEPAGE));
        assertFalse(host.isHugeAdvised(hva));
        assertTrue(host.isHugeAdvised(hva + PAGE_SIZE));
        assertTrue(host.isHugeAdvised(hva + PAGE_SIZE, hva + 3 * PAGE_SIZE));
        assertFalse(host.isHugeAdvised(hva, hva + 3 * PAGE_SIZE));
        assertEquals(0, host.madvise(hva + 2 * PAGE_SIZE, PAGE_SIZE, Advice.NOHUGEPAGE));
        assertTrue(host.isHugeAdvised(hva + PAGE_SIZE));
        assertFalse(host.isHugeAdvised(hva + 2 * PAGE_SIZE));
        host.write64(hva + PAGE_SIZE, 8);
        assertEquals(8, host.read64(hva + PAGE_SIZE), "advice does not touch the data");
    }

    @Test
    void resolvePageReportsWritabilityLikeGup() {
        long hva = map(2 * PAGE_SIZE);
        HostPage fresh = host.resolvePage(hva + 123, false);
        assertEquals(hva, fresh.hva());
        assertEquals(PAGE_SIZE, fresh.segment().byteSize());
        assertFalse(fresh.writable(), "a never-written page maps read-only on a read fault");

        HostPage forWrite = host.resolvePage(hva, true);
        assertTrue(forWrite.writable());
        assertTrue(host.isWrittenSinceDiscard(hva), "a write resolve marks the page written");
        forWrite.segment().set(ValueLayout.JAVA_LONG, 8, 77);
        assertEquals(77, host.read64(hva + 8), "the segment is the host page itself");
        assertTrue(host.resolvePage(hva, false).writable(), "a written page maps writable on a read fault");

        host.write64(hva + PAGE_SIZE, 1);
        assertTrue(host.resolvePage(hva + PAGE_SIZE, false).writable());
        assertEquals(0, host.madvise(hva + PAGE_SIZE, PAGE_SIZE, Advice.DONTNEED));
        assertFalse(host.resolvePage(hva + PAGE_SIZE, false).writable());

        assertEquals(0, host.mprotect(hva, PAGE_SIZE, Protection.READ));
        assertFalse(host.resolvePage(hva, false).writable(), "read-only protection never maps writable");
        assertEquals(HostFault.Kind.PROTECTION, faultOf(() -> host.resolvePage(hva, true)));
    }

    @Test
    void closeUnmapsEverythingAndForbidsNewMappings() {
        long a = map(PAGE_SIZE);
        long b = map(8 * PAGE_SIZE);
        host.write64(b, 1);
        host.close();
        assertEquals(HostFault.Kind.UNMAPPED, faultOf(() -> host.read64(a)));
        assertEquals(HostFault.Kind.UNMAPPED, faultOf(() -> host.read64(b)));
        assertEquals(Optional.empty(), host.mappingAt(b));
        assertThrows(IllegalStateException.class, () -> host.mmap(PAGE_SIZE));
        host.close(); // idempotent
    }

    @Test
    void addressesOutsideOurMappingsFaultWithoutBeingTouched() {
        assertEquals(HostFault.Kind.UNMAPPED, faultOf(() -> host.read64(0)));
        assertEquals(HostFault.Kind.UNMAPPED, faultOf(() -> host.read64(-8)));
        // Memory the JVM owns is mapped for the kernel but not for us.
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment jvm = arena.allocate(PAGE_SIZE, PAGE_SIZE);
            assertEquals(HostFault.Kind.UNMAPPED, faultOf(() -> host.write64(jvm.address(), 1)));
            assertEquals(0, host.munmap(jvm.address(), PAGE_SIZE));
            assertEquals(Errno.ENOMEM, host.mprotect(jvm.address(), PAGE_SIZE, Protection.NONE));
            jvm.set(ValueLayout.JAVA_LONG, 0, 3); // still ours to use: nothing was unmapped or protected
            assertEquals(3, jvm.get(ValueLayout.JAVA_LONG, 0));
        }
    }
}
