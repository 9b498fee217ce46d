package dev.guestmem.cli;

import dev.guestmem.fuzz.ReservedForRunner;
import dev.guestmem.trace.Trace;
import dev.guestmem.trace.TraceOp;
import dev.guestmem.trace.TraceUsageException;
import java.util.OptionalLong;

/**
 * Refuses, before it runs, a trace the KVM backend cannot replay: a guest access at or above 4 GiB or in
 * the reference runner's reserved window has no guest code to run it (trace-format.md, "Reserved for the
 * reference runner"). The refusal is a usage error naming the line, like a malformed one.
 */
final class KvmReach {
    private KvmReach() {
    }

    /** Throws a {@link TraceUsageException} at the first guest access outside the backend's reach. */
    static void check(Trace trace) {
        for (TraceOp op : trace.ops()) {
            OptionalLong access = switch (op) {
                case TraceOp.GuestWrite w -> OptionalLong.of(w.gpa());
                case TraceOp.GuestRead r -> OptionalLong.of(r.gpa());
                default -> OptionalLong.empty();
            };
            if (access.isPresent() && !ReservedForRunner.isReachable(access.getAsLong())) {
                long gpa = access.getAsLong();
                throw new TraceUsageException(op.source(), String.format("gpa 0x%x is outside the kvm backend's"
                        + " reach: guest accesses stay below 0x%x and outside 0x%x-0x%x (trace-format.md, Reserved"
                        + " for the reference runner)", gpa, ReservedForRunner.ACCESS_LIMIT,
                        ReservedForRunner.WINDOW_START, ReservedForRunner.WINDOW_END - 1));
            }
        }
    }
}
