package dev.guestmem.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.host.HostMemory;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.trace.OpKind;
import dev.guestmem.trace.PendingOps;
import dev.guestmem.trace.Trace;
import dev.guestmem.trace.TraceNotImplementedException;
import dev.guestmem.trace.TraceParser;
import dev.guestmem.trace.TraceUsageException;
import dev.guestmem.vm.EngineVm;
import dev.guestmem.vm.VmType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The differential replayer on two engines, one of them deliberately different: it must report the
 * first line where they differ, and nothing else.
 */
class DifferentialReplayerTest {
    /** A gpa where the different engine has a page of its own holding {@link #PLANTED}. */
    static final long HIDDEN_GPA = 0x7000_0000L;
    static final long PLANTED = 0x5a5a;

    /**
     * An engine that differs from the real one in one place: every VM gets a slot the trace did not ask
     * for, over a page holding {@link #PLANTED}, so a read at {@link #HIDDEN_GPA} is {@code val 0x5a5a}
     * instead of {@code mmio}, and a slot request overlapping it is {@code EEXIST}.
     */
    static Backend hiddenSlotEngine() {
        return new Backend("planted", (HostMemory host, VmType type, MemslotImpl impl) -> {
            EngineVm vm = new EngineVm(host, type, impl);
            long hva = host.mmap(HostMemory.PAGE_SIZE);
            host.write64(hva, PLANTED);
            int err = vm.setUserMemoryRegion(32000, 0, HIDDEN_GPA, HostMemory.PAGE_SIZE, hva);
            if (err != 0) {
                throw new IllegalStateException("planting the hidden slot failed: " + err);
            }
            return vm;
        });
    }

    private static final DifferentialReplayer SAME = new DifferentialReplayer(Backend.engine(), Backend.engine(),
            MemslotImpl.TREE);
    private static final DifferentialReplayer DIFFERENT = new DifferentialReplayer(Backend.engine(),
            hiddenSlotEngine(), MemslotImpl.ARRAY);

    private static Trace trace(String... lines) {
        return TraceParser.parse("t.gmt", String.join("\n", lines) + "\n");
    }

    @Test
    void identicalBackendsAgreeOnEveryLine() {
        Trace trace = trace("mmap a 0x2000", "region 1 0 0x100000 0x2000 a", "w 0x100008 7", "r 0x100008",
                "r 0x70000000", "region 2 0 0x70000000 0x1000 a");
        List<String> heard = new ArrayList<>();
        Comparison c = SAME.compare(trace, (op, line) -> heard.add(op.source().line() + ":" + line));
        Comparison.Agreement agreement = assertInstanceOf(Comparison.Agreement.class, c);
        assertEquals(List.of("ok", "ok", "ok", "val 0x7", "mmio", "ok"), agreement.agreed());
        assertTrue(agreement.stop().isEmpty());
        assertEquals(List.of("1:ok", "2:ok", "3:ok", "4:val 0x7", "5:mmio", "6:ok"), heard);
    }

    @Test
    void aDifferentResultIsReportedAtItsLineWithBothResults() {
        Trace trace = trace("mmap a 0x2000", "region 1 0 0x100000 0x2000 a", "r 0x100000", "r 0x70000000",
                "region 2 0 0x70000000 0x1000 a");
        List<String> heard = new ArrayList<>();
        Comparison c = DIFFERENT.compare(trace, (op, line) -> heard.add(line));
        Comparison.Divergence d = assertInstanceOf(Comparison.Divergence.class, c);
        assertEquals(4, d.op().source().line());
        assertEquals("r 0x70000000", d.op().source().text());
        assertEquals("mmio", d.first());
        assertEquals("val 0x5a5a", d.second());
        assertEquals(List.of("ok", "ok", "val 0x0"), d.agreed());
        assertEquals(d.agreed(), heard, "only lines both printed are passed on");
    }

    @Test
    void onlyTheFirstDifferenceCounts() {
        Comparison c = DIFFERENT.compare(trace("mmap a 0x1000", "region 2 0 0x70000000 0x1000 a",
                "r 0x70000000"));
        Comparison.Divergence d = assertInstanceOf(Comparison.Divergence.class, c);
        assertEquals(2, d.op().source().line());
        assertEquals("ok", d.first());
        assertEquals("err EEXIST", d.second());
    }

    @Test
    void aPendingOperationEndsTheComparisonWithoutADifference() {
        OpKind pending = Arrays.stream(OpKind.values()).filter(k -> !PendingOps.isImplemented(k)).findFirst()
                .orElse(null);
        if (pending == null) {
            System.out.println("DifferentialReplayerTest: no pending operation left to stop at");
            return;
        }
        // The different engine would differ after the stop: that must not be looked at.
        Trace trace = trace("mmap a 0x1000", pendingLine(pending), "r 0x70000000");
        Comparison.Agreement a = assertInstanceOf(Comparison.Agreement.class, DIFFERENT.compare(trace));
        assertEquals(List.of("ok"), a.agreed());
        TraceNotImplementedException stop = assertInstanceOf(TraceNotImplementedException.class, a.stop().orElseThrow());
        assertEquals(2, stop.op().source().line());
    }

    private static String pendingLine(OpKind kind) {
        return switch (kind) {
            case ENABLE_CAP -> "enable-cap manual-protect 1";
            case DIRTY_LOG -> "dirty 1 1";
            case CLEAR_LOG -> "clear 1 0 64 all";
            case ATTRS -> "attrs 0 0x1000 0 0";
            case GMEM -> "gmem g 0x1000 0";
            case FSTAT -> "fstat 3";
            case CLOSE -> "close 3";
            case FALLOCATE -> "fallocate 3 0 0 0x1000";
            default -> throw new IllegalArgumentException("no sample line for " + kind);
        };
    }

    @Test
    void aUsageErrorAtReplayTimeEndsTheComparisonWithoutADifference() {
        Trace trace = trace("mmap a 0", "r 0x70000000", "hr a", "r 0x70000000");
        Comparison c = SAME.compare(trace);
        Comparison.Agreement a = assertInstanceOf(Comparison.Agreement.class, c);
        assertEquals(List.of("err EINVAL", "mmio"), a.agreed());
        assertInstanceOf(TraceUsageException.class, a.stop().orElseThrow());
        // With a different second backend the stop comes after the difference, which wins.
        assertInstanceOf(Comparison.Divergence.class, DIFFERENT.compare(trace));
    }
}
