package dev.guestmem.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class PendingOpsTest {
    @Test
    void memslotHostAndVcpuOperationsAreImplemented() {
        for (OpKind kind : new OpKind[] {OpKind.VM, OpKind.MMAP, OpKind.MUNMAP, OpKind.MADVISE, OpKind.MPROTECT,
            OpKind.HOST_WRITE, OpKind.HOST_READ, OpKind.REGION, OpKind.REGION2, OpKind.GUEST_WRITE,
            OpKind.GUEST_READ}) {
            assertTrue(PendingOps.isImplemented(kind), kind.keyword());
        }
    }

    @Test
    void firstPendingIsTheEarliestUnimplementedOperation() {
        Trace trace = TraceParser.parse("t.gmt", "mmap a 0x1000\nr 0\n");
        assertEquals(Optional.empty(), PendingOps.firstPending(trace));
        for (OpKind kind : OpKind.values()) {
            if (PendingOps.isImplemented(kind)) {
                continue;
            }
            String line = switch (kind) {
                case ENABLE_CAP -> "enable-cap manual-protect 1";
                case DIRTY_LOG -> "dirty 1 64";
                case CLEAR_LOG -> "clear 1 0 64 all";
                case ATTRS -> "attrs 0 0x1000 8 0";
                case GMEM -> "gmem g 0x1000 0";
                case GMEM_MMAP -> "gmem-mmap m 3 0x1000";
                case FALLOCATE -> "fallocate 3 1 0 0x1000";
                case FSTAT -> "fstat 3";
                case CLOSE -> "close 3";
                default -> throw new AssertionError("no sample line for pending " + kind);
            };
            Trace withPending = TraceParser.parse("t.gmt", "mmap a 0x1000\n" + line + "\nr 0\nfstat 4\n");
            TraceOp first = PendingOps.firstPending(withPending).orElseThrow();
            assertEquals(kind, first.kind());
            assertEquals(2, first.source().line());
            assertFalse(PendingOps.isImplemented(first.kind()));
        }
    }
}
