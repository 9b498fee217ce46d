package dev.guestmem.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.guestmem.Errno;
import dev.guestmem.host.HostMemory;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.vm.EngineVm;
import dev.guestmem.vm.VmType;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The replayer's own rules, on the engine: names at replay time, host faults, VM lifecycle, outputs. */
class TraceReplayerTest {
    /** The VMs and host address spaces the replayer created, to look at after it finished. */
    private final List<EngineVm> vms = new ArrayList<>();
    private final List<HostMemory> hosts = new ArrayList<>();
    private final List<VmType> types = new ArrayList<>();

    private final TraceReplayer replayer = new TraceReplayer((host, type, impl) -> {
        hosts.add(host);
        types.add(type);
        EngineVm vm = new EngineVm(host, type, impl);
        vms.add(vm);
        return vm;
    }, MemslotImpl.TREE);

    private List<String> replay(String text) {
        return replayer.replay(TraceParser.parse("t.gmt", text));
    }

    /**
     * A line whose operation is still pending, if any is: the stop tests need one, and the set shrinks as
     * subsystems are wired in (once it is empty they have nothing left to test and are skipped).
     */
    private static Optional<String> pendingLine() {
        return Stream.of("attrs 0 0x1000 8 0", "gmem g 0x1000 0", "fallocate 3 1 0 0x1000", "fstat 3", "close 3")
                .filter(line -> PendingOps.firstPending(TraceParser.parse("p.gmt", line)).isPresent())
                .findFirst();
    }

    @Test
    void oneResultLinePerOperationToListenerStreamAndList() {
        String text = "mmap a 0x2000\nregion 1 0 0x100000 0x2000 a\nw 0x100008 0xAB\nhr a+8\nr 0x200000\n";
        List<String> expected = List.of("ok", "ok", "ok", "val 0xab", "mmio");
        assertEquals(expected, replay(text));

        List<String> heard = new ArrayList<>();
        Trace trace = TraceParser.parse("t.gmt", text);
        assertEquals(expected, replayer.replay(trace, (op, result) -> heard.add(op.source().line() + " " + result)));
        assertEquals(List.of("1 ok", "2 ok", "3 ok", "4 val 0xab", "5 mmio"), heard);

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        replayer.replay(trace, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        assertEquals(expected, bytes.toString(StandardCharsets.UTF_8).lines().toList());
    }

    @Test
    void failedMmapLeavesTheNameUndefinedAtReplayTime() {
        Trace trace = TraceParser.parse("t.gmt", "mmap a 0\nhr a\n");
        List<String> printed = new ArrayList<>();
        TraceUsageException e = assertThrows(TraceUsageException.class,
                () -> replayer.replay(trace, (op, result) -> printed.add(result)));
        assertEquals("t.gmt:2: undefined name 'a': no mmap or gmem-mmap of that name has succeeded before this line",
                e.getMessage());
        assertEquals(List.of("err EINVAL"), printed);
    }

    @Test
    void failedRedefinitionUndefinesTheName() {
        TraceUsageException e = assertThrows(TraceUsageException.class,
                () -> replay("mmap a 0x1000\nhw a 1\nmmap a 0\nmunmap a\n"));
        assertEquals(4, e.line());
        assertTrue(e.getMessage().contains("undefined name 'a'"), e.getMessage());
    }

    @Test
    void redefinitionRebinds() {
        assertEquals(List.of("ok", "ok", "ok", "val 0x0", "val 0x1"),
                replay("mmap a 0x1000\nhw a 1\nmmap b 0x1000\nhr b\nhr a\n"));
        assertEquals(List.of("ok", "ok", "ok", "val 0x0"), replay("mmap a 0x1000\nhw a 1\nmmap a 0x1000\nhr a\n"));
    }

    @Test
    void hostFaultsPrintErrEfault() {
        assertEquals(List.of("err EFAULT", "err EFAULT"), replay("hr 0x1000\nhw 0x1000 5\n"));
        assertEquals(List.of("ok", "ok", "ok", "err EFAULT", "err EFAULT"),
                replay("mmap a 0x1000\nhw a 7\nmunmap a\nhr a\nhw a 1\n"));
        assertEquals(List.of("ok", "ok", "err EFAULT", "val 0x0", "ok", "err EFAULT"),
                replay("mmap a 0x1000\nmprotect a 0 0x1000 ro\nhw a 1\nhr a\nmprotect a 0 0x1000 none\nhr a\n"));
    }

    @Test
    void madviseAndMprotectWorkRelativeToTheNamedMapping() {
        assertEquals(List.of("ok", "ok", "ok", "val 0x0", "val 0x9"),
                replay("mmap a 0x2000\nhw a+0x1008 9\nmadvise a 0 0x1000 dontneed\nhr a+8\nhr a+0x1008\n"));
    }

    @Test
    void region2WithoutGuestMemfd() {
        assertEquals(List.of("ok", "ok", "ok", "val 0x3"),
                replay("mmap a 0x1000\nhw a 3\nregion2 1 0 0x10000 0x1000 a -1 0\nr 0x10000\n"));
    }

    @Test
    void vmLineChoosesTheVmTypeAndPrintsNothing() {
        assertEquals(List.of("err EINVAL"), replay("vm sw-protected\nregion 0x10000 0 0 0x1000 0\n"));
        assertEquals(List.of(VmType.SW_PROTECTED), types);
        replay("region 1 0 0 0 0");
        assertEquals(List.of(VmType.SW_PROTECTED, VmType.DEFAULT), types);
    }

    @Test
    void pendingOperationStopsBeforeRunningAnythingMore() {
        Optional<String> pending = pendingLine();
        assumeTrue(pending.isPresent(), "no operation is pending any more");
        Trace trace = TraceParser.parse("t.gmt", "mmap a 0x1000\n" + pending.get() + "\nhw a 1\n");
        List<String> printed = new ArrayList<>();
        TraceNotImplementedException e = assertThrows(TraceNotImplementedException.class,
                () -> replayer.replay(trace, (op, result) -> printed.add(result)));
        String keyword = pending.get().split(" ")[0];
        assertEquals("not implemented yet: " + keyword + " (t.gmt:2)", e.getMessage());
        assertEquals(List.of("ok"), printed);
    }

    @Test
    void vmAndHostAreClosedWhenTheReplayEnds() {
        replay("mmap a 0x1000\nregion 1 0 0 0x1000 a\n");
        assertClosed();
    }

    @Test
    void vmAndHostAreClosedWhenTheReplayStops() {
        Optional<String> pending = pendingLine();
        assumeTrue(pending.isPresent(), "no operation is pending any more");
        assertThrows(TraceNotImplementedException.class, () -> replay("mmap a 0x1000\n" + pending.get() + "\n"));
        assertClosed();
        vms.clear();
        hosts.clear();
        assertThrows(TraceUsageException.class, () -> replay("mmap a 0\nhr a\n"));
        assertClosed();
    }

    private void assertClosed() {
        assertEquals(1, vms.size());
        // A dead VM answers every ioctl with EIO (spec §1.1 step 0); a closed host refuses new mappings.
        assertEquals(Errno.EIO, vms.get(0).setUserMemoryRegion(2, 0, 0, 0x1000, 0x10000));
        assertThrows(IllegalStateException.class, () -> hosts.get(0).mmap(0x1000));
    }
}
