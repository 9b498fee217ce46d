package dev.guestmem.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * {@code munmap} leaves an inaccessible reservation instead of a hole, so nothing else in the process can
 * be mapped where a stale memslot still points; later mappings reuse it, and {@code close} gives it back.
 */
class HostMemoryReservationTest {
    /** The permissions column of the /proc/self/maps line containing {@code address}, if any. */
    private static Optional<String> kernelPermissions(long address) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
            String[] fields = line.split("\\s+");
            String[] range = fields[0].split("-");
            long start = Long.parseUnsignedLong(range[0], 16);
            long end = Long.parseUnsignedLong(range[1], 16);
            if (Long.compareUnsigned(address, start) >= 0 && Long.compareUnsigned(address, end) < 0) {
                return Optional.of(fields[1]);
            }
        }
        return Optional.empty();
    }

    @Test
    void unmappedRangesStayReservedAndAreReused() throws IOException {
        long hva;
        try (HostMemory host = new HostMemory()) {
            hva = host.mmap(0x10000);
            host.write64(hva, 1);
            assertEquals(0, host.munmap(hva, 0x10000));
            assertEquals(Optional.of("---p"), kernelPermissions(hva), "an inaccessible reservation, not a hole");
            assertThrows(HostFault.class, () -> host.read64(hva), "unmapped for everyone using HostMemory");
            assertTrue(host.mappingAt(hva).isEmpty());

            long again = host.mmap(0x4000);
            assertEquals(hva, again, "the reservation is handed out again");
            assertEquals(0, host.read64(again), "as fresh anonymous memory");
            assertEquals(Optional.of("---p"), kernelPermissions(hva + 0x4000), "the rest stays reserved");
        }
        assertEquals(Optional.empty(), kernelPermissions(hva + 0x4000), "close gives the addresses back");
    }

    @Test
    void reuseFollowsTheOrderOfTheUnmapsNotTheAddresses() {
        try (HostMemory host = new HostMemory()) {
            long[] hvas = new long[4];
            for (int i = 0; i < hvas.length; i++) {
                hvas[i] = host.mmap(0x2000);
            }
            // Released highest first and lowest first, side by side or not: the placement must not matter.
            long[] order = hvas.clone();
            Arrays.sort(order);
            assertEquals(0, host.munmap(order[2], 0x2000));
            assertEquals(0, host.munmap(order[0], 0x2000));
            assertEquals(0, host.munmap(order[1], 0x2000));
            assertEquals(order[2], host.mmap(0x1000), "the oldest reservation first");
            assertEquals(order[2] + 0x1000, host.mmap(0x1000), "its rest stays first");
            assertEquals(order[0], host.mmap(0x2000));
            assertEquals(order[1], host.mmap(0x1000), "never two reservations merged into one");
        }
    }

    @Test
    void partialUnmapReservesOnlyTheHole() throws IOException {
        try (HostMemory host = new HostMemory()) {
            long hva = host.mmap(0x3000);
            assertEquals(0, host.munmap(hva + 0x1000, 0x1000));
            assertEquals(Optional.of("---p"), kernelPermissions(hva + 0x1000));
            host.write64(hva, 7);
            host.write64(hva + 0x2000, 8);
            assertEquals(7, host.read64(hva));
            assertEquals(8, host.read64(hva + 0x2000));
        }
    }
}
