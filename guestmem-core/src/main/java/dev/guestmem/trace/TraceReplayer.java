package dev.guestmem.trace;

import dev.guestmem.host.HostMemory;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.vm.Vm;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Replays a {@link Trace} on a fresh VM and prints exactly one result line per operation
 * (trace-format.md). A leading {@code vm} line only chooses the VM type and prints nothing. Each
 * replay creates its own {@link HostMemory} and VM before the first line and closes both when it ends,
 * however it ends.
 *
 * <p>The replay stops with a {@link TraceUsageException} at a NAME that is not defined at that point
 * (see {@link ReplayNames}), and with a {@link TraceNotImplementedException} at the first operation
 * {@link PendingOps} lists; the lines printed before stay printed.
 */
public final class TraceReplayer {
    private final VmFactory vmFactory;
    private final MemslotImpl memslotImpl;

    /** A replayer creating its VMs with {@code vmFactory}, memslots of design {@code memslotImpl}. */
    public TraceReplayer(VmFactory vmFactory, MemslotImpl memslotImpl) {
        this.vmFactory = Objects.requireNonNull(vmFactory, "vmFactory");
        this.memslotImpl = Objects.requireNonNull(memslotImpl, "memslotImpl");
    }

    /** The memslot design of the VMs this replayer creates. */
    public MemslotImpl memslotImpl() {
        return memslotImpl;
    }

    /** Replays {@code trace}, telling {@code listener} each result as it comes; returns all result lines. */
    public List<String> replay(Trace trace, ReplayListener listener) {
        List<String> results = new ArrayList<>();
        try (HostMemory host = new HostMemory(); Vm vm = vmFactory.create(host, trace.vmType(), memslotImpl)) {
            OpExecutor executor = new OpExecutor(vm, host);
            for (TraceOp op : trace.ops()) {
                if (!PendingOps.isImplemented(op.kind())) {
                    throw new TraceNotImplementedException(op);
                }
                Optional<String> result = executor.execute(op);
                if (result.isPresent()) {
                    results.add(result.get());
                    listener.onResult(op, result.get());
                }
            }
        }
        return results;
    }

    /** Replays {@code trace} and returns its result lines. */
    public List<String> replay(Trace trace) {
        return replay(trace, ReplayListener.none());
    }

    /** Replays {@code trace}, printing each result line to {@code out} as it comes. */
    public List<String> replay(Trace trace, PrintStream out) {
        return replay(trace, (op, result) -> out.println(result));
    }
}
