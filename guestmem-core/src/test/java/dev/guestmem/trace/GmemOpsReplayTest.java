package dev.guestmem.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.guestmem.memslot.MemslotImpl;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The guest_memfd and attribute operations of the trace language on the engine: what each prints, and
 * the NAME rules ({@code gmem} and {@code gmem-mmap} bind only on success, {@code close} keeps the name,
 * so later uses of a closed fd print {@code err EBADF}).
 */
class GmemOpsReplayTest {
    private final TraceReplayer replayer = new TraceReplayer(VmFactory.engine(), MemslotImpl.TREE);

    private List<String> replay(String text) {
        return replayer.replay(TraceParser.parse("t.gmt", text));
    }

    @Test
    void gmemFstatFallocateAndClose() {
        assertEquals(List.of("ok", "size 8192", "ok", "err EOPNOTSUPP", "ok", "err EBADF", "err EBADF"),
                replay("gmem g 0x2000 0\nfstat g\nfallocate g 1 0 0x2000\nfallocate g 0 0 0x1000\nclose g\n"
                        + "fstat g\nclose g\n"));
    }

    @Test
    void aFailedGmemLeavesTheNameUndefined() {
        assertThrows(TraceUsageException.class, () -> replay("gmem g 0x1001 0\nfstat g\n"));
        assertEquals(List.of("ok", "err EINVAL"), replay("gmem g 0x1000 0\ngmem g 0x1000 8\n"));
        assertThrows(TraceUsageException.class, () -> replay("gmem g 0x1000 0\ngmem g 0 0\nfstat g\n"),
                "a failed redefinition drops the old binding");
    }

    @Test
    void rawFdNumbersArePassedAsWritten() {
        assertEquals(List.of("ok", "size 4096", "err EBADF", "err EBADF"),
                replay("gmem g 0x1000 0\nfstat 3\nfstat 4\nfallocate 99 1 0 0x1000\n"));
    }

    @Test
    void gmemMmapBindsAHostMappingAndHostFaultsOnPrivateMemoryPrintEfault() {
        assertEquals(List.of("ok", "ok", "ok", "val 0x5", "err EFAULT"),
                replay("gmem s 0x1000 3\ngmem-mmap m s 0x2000\nhw m 5\nhr m\nhr m+0x1000\n"));
        assertEquals(List.of("ok", "ok", "err EFAULT", "err EFAULT"),
                replay("gmem p 0x1000 1\ngmem-mmap m p 0x1000 shared\nhw m 5\nhr m\n"));
        assertThrows(TraceUsageException.class, () -> replay("gmem p 0x1000 0\ngmem-mmap m p 0x1000\nhr m\n"));
    }

    @Test
    void attrsOnBothVmTypes() {
        assertEquals(List.of("err EINVAL", "ok"), replay("attrs 0xc0000000 0x1000 8 0\nattrs 0xc0000000 0x1000 0 0\n"));
        assertEquals(List.of("ok", "err EINVAL", "err EINVAL", "memfault private"),
                replay("vm sw-protected\nattrs 0xc0000000 0x1000 8 0\nattrs 0xc0000000 0x1000 8 1\n"
                        + "attrs 0xc0000001 0x1000 8 0\nr 0xc0000000\n"));
    }

    @Test
    void privateMemoryThroughAGmemSlotOnASwProtectedVm() {
        String trace = """
                vm sw-protected
                mmap a 0x1000
                hw a 7
                gmem g 0x1000 0
                region2 1 4 0x100000 0x1000 a g 0
                attrs 0x100000 0x1000 8 0
                w 0x100000 9
                r 0x100008
                r 0x100000
                hr a
                attrs 0x100000 0x1000 0 0
                r 0x100000
                fallocate g 3 0 0x1000
                attrs 0x100000 0x1000 8 0
                r 0x100000
                """;
        assertEquals(List.of("ok", "ok", "ok", "ok", "ok", "ok", "val 0x0", "val 0x9", "val 0x7", "ok", "val 0x7",
                "ok", "ok", "val 0x0"), replay(trace));
    }
}
