package dev.guestmem.host;

import static dev.guestmem.host.HostMemory.PAGE_SIZE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The two extreme geometries of the selftests: one huge mapping (SMR-03) and very many small ones. */
class HostMemoryScaleTest {
    private static final long TWO_MIB = 2L << 20;

    @Test
    void a64GiBNoReserveMappingCanBeTouchedAtBothEndsAndUnmapped() {
        long length = 32_764L * TWO_MIB; // KVM_USER_MEM_SLOTS x 2 MiB, as in SMR-03
        try (HostMemory host = new HostMemory()) {
            long hva = host.mmap(length);
            assertTrue(hva > 0, "mmap of 64 GiB failed: " + hva);
            assertEquals(Optional.of(new MappingInfo(hva, length)), host.mappingAt(hva + length / 2));
            long last = hva + length - 8;
            host.write64(hva, 0x1111);
            host.write64(last, 0x2222);
            assertEquals(0x1111, host.read64(hva));
            assertEquals(0x2222, host.read64(last));
            assertTrue(host.isWrittenSinceDiscard(last));
            assertFalse(host.isWrittenSinceDiscard(hva + length / 2));

            assertEquals(0, host.madvise(hva, length, Advice.DONTNEED));
            assertEquals(0, host.read64(last));
            assertFalse(host.isWrittenSinceDiscard(hva));
            assertFalse(host.isWrittenSinceDiscard(last));

            assertEquals(0, host.munmap(hva, length));
            assertEquals(HostFault.Kind.UNMAPPED, assertThrows(HostFault.class, () -> host.read64(last)).kind());
            assertEquals(0, host.areaCount());
        }
    }

    @Test
    void tensOfThousandsOfSmallMappingsAreIndependent() {
        int count = 32_763; // memslot_perf_test's slot count, one mapping per slot
        long[] hvas = new long[count];
        try (HostMemory host = new HostMemory()) {
            for (int i = 0; i < count; i++) {
                hvas[i] = host.mmap(PAGE_SIZE);
                assertTrue(hvas[i] > 0, "mmap #" + i + " failed: " + hvas[i]);
                host.write64(hvas[i], i);
            }
            assertEquals(count, host.areaCount(), "separate mmaps are separate mappings");
            for (int i = 0; i < count; i++) {
                assertEquals(i, host.read64(hvas[i]));
                assertEquals(new MappingInfo(hvas[i], PAGE_SIZE), host.mappingAt(hvas[i]).orElseThrow());
            }
            for (int i = 0; i < count; i += 2) {
                assertEquals(0, host.munmap(hvas[i], PAGE_SIZE));
            }
            for (int i = 0; i < count; i++) {
                long hva = hvas[i];
                if (i % 2 == 0) {
                    assertThrows(HostFault.class, () -> host.read64(hva));
                } else {
                    assertEquals(i, host.read64(hva));
                }
            }
        }
    }
}
