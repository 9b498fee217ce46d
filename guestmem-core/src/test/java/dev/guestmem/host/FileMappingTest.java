package dev.guestmem.host;

import static dev.guestmem.host.HostMemory.PAGE_SIZE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.Errno;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link MemfdFile} and {@link HostMemory#mmapShared}: real memfd memory shared between the engine's view
 * and host mappings, hole punching, the sealed size, and SIGBUS pages reported as faults.
 */
class FileMappingTest {
    private static final int KEEP_SIZE = 1;
    private static final int PUNCH_HOLE = 2;

    private final HostMemory host = new HostMemory();
    private final List<MemfdFile> files = new ArrayList<>();

    @AfterEach
    void tearDown() {
        host.close();
        files.forEach(MemfdFile::close);
    }

    private MemfdFile memfd(long size) {
        MemfdFile file = MemfdFile.create("test", size);
        files.add(file);
        return file;
    }

    private long mapShared(MemfdFile file, long length, long faultable) {
        long hva = host.mmapShared(file.fd(), length, faultable);
        assertTrue(hva > 0, "mmapShared failed: " + hva);
        return hva;
    }

    private static HostFault.Kind faultOf(Runnable access) {
        return assertThrows(HostFault.class, access::run).kind();
    }

    @Test
    void memfdHasItsSizeAndAPageBlockSizeAndDistinctInodes() {
        MemfdFile a = memfd(4 * PAGE_SIZE);
        MemfdFile b = memfd(2 * PAGE_SIZE);
        assertEquals(4 * PAGE_SIZE, a.stat().size());
        assertEquals(PAGE_SIZE, a.stat().blockSize());
        assertEquals(2 * PAGE_SIZE, b.stat().size());
        assertNotEquals(a.stat().inode(), b.stat().inode());
    }

    @Test
    void theSizeIsSealed() {
        MemfdFile file = memfd(PAGE_SIZE);
        assertEquals(-Errno.EPERM, LibC.ftruncate(file.fd(), 0));
        assertEquals(-Errno.EPERM, LibC.ftruncate(file.fd(), 8 * PAGE_SIZE));
        assertEquals(PAGE_SIZE, file.stat().size());
    }

    @Test
    void hostMappingAndViewAliasTheSamePages() {
        MemfdFile file = memfd(4 * PAGE_SIZE);
        long hva = mapShared(file, 4 * PAGE_SIZE, 4 * PAGE_SIZE);
        host.write64(hva + PAGE_SIZE, 0x1234);
        assertEquals(0x1234, file.view().get(ValueLayout.JAVA_LONG, PAGE_SIZE));
        file.view().set(ValueLayout.JAVA_LONG, 3 * PAGE_SIZE + 8, 0x5678);
        assertEquals(0x5678, host.read64(hva + 3 * PAGE_SIZE + 8));
    }

    @Test
    void punchingAHoleFreesThePagesForEveryMapping() {
        MemfdFile file = memfd(2 * PAGE_SIZE);
        long hva = mapShared(file, 2 * PAGE_SIZE, 2 * PAGE_SIZE);
        long blocksPerPage = PAGE_SIZE / 512;
        assertEquals(0, file.stat().blocks(), "a new memfd is all hole");
        host.write64(hva, 0xab);
        host.write64(hva + PAGE_SIZE, 0xcd);
        assertEquals(2 * blocksPerPage, file.stat().blocks());
        assertEquals(0, file.fallocate(KEEP_SIZE | PUNCH_HOLE, 0, PAGE_SIZE));
        assertEquals(blocksPerPage, file.stat().blocks(), "the punched page is freed");
        assertEquals(0, host.read64(hva));
        assertEquals(0, file.view().get(ValueLayout.JAVA_LONG, 0));
        assertEquals(0xcd, host.read64(hva + PAGE_SIZE));
        assertEquals(0, file.fallocate(KEEP_SIZE | PUNCH_HOLE, 0, 2 * PAGE_SIZE));
        assertEquals(0, file.stat().blocks());
        assertEquals(0, file.fallocate(KEEP_SIZE, 0, 2 * PAGE_SIZE));
        assertEquals(2 * blocksPerPage, file.stat().blocks(), "allocation really allocates");
        assertEquals(0, host.read64(hva + PAGE_SIZE));
    }

    @Test
    void pagesPastTheFaultableLengthRaiseBusInsteadOfSigbus() {
        MemfdFile file = memfd(PAGE_SIZE);
        long hva = mapShared(file, 4 * PAGE_SIZE, PAGE_SIZE);
        host.write64(hva + PAGE_SIZE - 8, 1);
        assertEquals(HostFault.Kind.BUS, faultOf(() -> host.read64(hva + PAGE_SIZE)));
        assertEquals(HostFault.Kind.BUS, faultOf(() -> host.write64(hva + 3 * PAGE_SIZE, 1)));
        assertEquals(HostFault.Kind.BUS, faultOf(() -> host.resolvePage(hva + 2 * PAGE_SIZE, false)));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(2 * PAGE_SIZE);
            HostFault fault = assertThrows(HostFault.class, () -> host.read(hva, buffer));
            assertEquals(HostFault.Kind.BUS, fault.kind());
            assertEquals(hva + PAGE_SIZE, fault.hva(), "the fault is reported where the file's pages end");
            host.read(hva, buffer.asSlice(0, PAGE_SIZE));
            assertEquals(1, buffer.get(ValueLayout.JAVA_LONG, PAGE_SIZE - 8));
        }
        assertEquals(1, host.read64(hva + PAGE_SIZE - 8));
    }

    @Test
    void aMappingWithNothingFaultableFaultsEverywhereButStaysAMapping() {
        MemfdFile file = memfd(2 * PAGE_SIZE);
        long hva = mapShared(file, 2 * PAGE_SIZE, 0);
        assertEquals(HostFault.Kind.BUS, faultOf(() -> host.read64(hva)));
        assertEquals(HostFault.Kind.BUS, faultOf(() -> host.write64(hva + PAGE_SIZE, 1)));
        assertEquals(2 * PAGE_SIZE, host.mappingAt(hva).orElseThrow().length());
    }

    @Test
    void protectionIsCheckedBeforeTheFilePage() {
        MemfdFile file = memfd(PAGE_SIZE);
        long hva = mapShared(file, 2 * PAGE_SIZE, PAGE_SIZE);
        assertEquals(0, host.mprotect(hva, 2 * PAGE_SIZE, Protection.NONE));
        assertEquals(HostFault.Kind.PROTECTION, faultOf(() -> host.read64(hva + PAGE_SIZE)));
        assertEquals(0, host.mprotect(hva, 2 * PAGE_SIZE, Protection.READ_WRITE));
        assertEquals(HostFault.Kind.BUS, faultOf(() -> host.read64(hva + PAGE_SIZE)), "mprotect cannot create pages");
        assertEquals(0, host.read64(hva));
    }

    @Test
    void aFilePageResolvesWritableEvenForAReadNeverWrittenBefore() {
        MemfdFile file = memfd(PAGE_SIZE);
        long hva = mapShared(file, PAGE_SIZE, PAGE_SIZE);
        HostPage page = host.resolvePage(hva, false);
        assertTrue(page.writable(), "a shared file page is mapped as itself, never as the zero page");
        long anon = host.mmap(PAGE_SIZE);
        assertFalse(host.resolvePage(anon, false).writable(), "contrast: an untouched anonymous page");
    }

    @Test
    void unmappingAFileMappingNotifiesListeners() {
        MemfdFile file = memfd(PAGE_SIZE);
        long hva = mapShared(file, PAGE_SIZE, PAGE_SIZE);
        List<String> events = new ArrayList<>();
        host.addInvalidationListener(new InvalidationListener() {
            @Override
            public void invalidateRangeStart(long start, long end, InvalidationCause cause) {
                events.add("start " + (start - hva) + " " + (end - hva) + " " + cause);
            }

            @Override
            public void invalidateRangeEnd(long start, long end, InvalidationCause cause) {
                events.add("end " + (start - hva) + " " + (end - hva) + " " + cause);
            }
        });
        assertEquals(0, host.munmap(hva, PAGE_SIZE));
        assertEquals(List.of("start 0 4096 UNMAP", "end 0 4096 UNMAP"), events);
        assertEquals(HostFault.Kind.UNMAPPED, faultOf(() -> host.read64(hva)));
    }

    @Test
    void aHostMappingOutlivesTheFileAndItsView() {
        MemfdFile file = memfd(PAGE_SIZE);
        long hva = mapShared(file, PAGE_SIZE, PAGE_SIZE);
        file.view().set(ValueLayout.JAVA_LONG, 0, 0x77);
        file.close();
        assertTrue(file.isClosed());
        assertEquals(0x77, host.read64(hva), "the mapping holds the inode");
        assertThrows(IllegalStateException.class, file::view);
        assertThrows(IllegalStateException.class, () -> file.fallocate(KEEP_SIZE, 0, PAGE_SIZE));
    }

    @Test
    void mmapSharedRefusesWhatMmapRefuses() {
        MemfdFile file = memfd(PAGE_SIZE);
        assertEquals(-Errno.EINVAL, host.mmapShared(file.fd(), 0, PAGE_SIZE));
        assertEquals(-Errno.ENOMEM, host.mmapShared(file.fd(), -1L, PAGE_SIZE));
        assertEquals(-Errno.EBADF, host.mmapShared(-1, PAGE_SIZE, PAGE_SIZE));
    }

    @Test
    void memfdSizesMustBeWholePages() {
        assertThrows(IllegalArgumentException.class, () -> MemfdFile.create("bad", 100));
        assertThrows(IllegalArgumentException.class, () -> MemfdFile.create("bad", 0));
    }
}
