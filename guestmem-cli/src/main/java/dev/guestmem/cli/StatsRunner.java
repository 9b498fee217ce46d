package dev.guestmem.cli;

import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.mmu.VmStats;
import dev.guestmem.trace.ReplayListener;
import dev.guestmem.trace.Trace;
import dev.guestmem.trace.TraceReplayer;
import dev.guestmem.trace.VmFactory;
import dev.guestmem.vm.Vm;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code guestmem run --stats}: replays on the engine and, once the trace ends (however it ends), prints
 * the VM's MMU statistics as of its last operation to stderr, one {@code # stat NAME VALUE} line each,
 * so standard output stays exactly the result lines.
 */
final class StatsRunner implements TraceRunner {
    private final TraceReplayer replayer;
    private final MemslotImpl impl;
    private final PrintWriter err;
    private Vm current;
    private Optional<VmStats> last = Optional.empty();

    StatsRunner(MemslotImpl impl, PrintWriter err) {
        this.impl = impl;
        this.err = err;
        this.replayer = new TraceReplayer((host, type, i) -> {
            Vm vm = VmFactory.engine().create(host, type, i);
            current = vm;
            last = vm.stats();
            return vm;
        }, impl);
    }

    @Override
    public List<String> replay(Trace trace, ReplayListener listener) {
        try {
            return replayer.replay(trace, (op, result) -> {
                listener.onResult(op, result);
                last = current.stats(); // before the replay closes the VM and its mappings are dropped
            });
        } finally {
            last.ifPresent(stats -> stats.asMap().forEach((name, value) -> err.println("# stat " + name + " " + value)));
            err.flush();
            current = null;
            last = Optional.empty();
        }
    }

    @Override
    public String label() {
        return "--impl " + impl.name().toLowerCase(Locale.ROOT);
    }
}
