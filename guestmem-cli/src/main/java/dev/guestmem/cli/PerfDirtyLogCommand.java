package dev.guestmem.cli;

import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.perf.DirtyLogPerfOptions;
import dev.guestmem.perf.DirtyLogPerfReport;
import dev.guestmem.perf.DirtyLogPerfRun;
import dev.guestmem.vm.EngineVm;
import dev.guestmem.vm.VmType;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code guestmem perf dirty-log}: dirty_log_perf_test (kernel-selftests.md §C) on the engine. */
@Command(name = "dirty-log", mixinStandardHelpOptions = true,
        description = {"dirty_log_perf_test on the engine: populate, enable dirty logging, N iterations of",
            "(every vCPU writes its slice, get dirty log, clear dirty log), disable; prints the selftest's times."},
        exitCodeListHeading = "%nExit status:%n", exitCodeList = {"0:ran", "2:usage error"})
public final class PerfDirtyLogCommand implements Callable<Integer> {
    private static final DirtyLogPerfOptions DEFAULTS = DirtyLogPerfOptions.defaults();

    @Spec
    private CommandSpec spec;

    @Option(names = {"-v", "--vcpus"}, paramLabel = "N", description = "vCPUs (default: 1).")
    private int vcpus = DEFAULTS.vcpus();

    @Option(names = {"-b", "--memory"}, paramLabel = "SIZE", description = "Memory per vCPU, K/M/G (default: 1G).")
    private String memory = "1G";

    @Option(names = {"-x", "--slots"}, paramLabel = "N", description = "Memslots (default: 1).")
    private int slots = DEFAULTS.slots();

    @Option(names = {"-i", "--iterations"}, paramLabel = "N", description = "Iterations, at least 2 (default: 2).")
    private int iterations = DEFAULTS.iterations();

    @Option(names = {"-g", "--no-manual-protect"}, description = "Without MANUAL_DIRTY_LOG_PROTECT2 (no clears).")
    private boolean noManualProtect;

    @Option(names = "--impl", paramLabel = "IMPL", description = "Memslot design: tree or array (default: tree).")
    private MemslotImpl impl = MemslotImpl.TREE;

    @Override
    public Integer call() throws InterruptedException {
        DirtyLogPerfOptions options;
        try {
            options = new DirtyLogPerfOptions(vcpus, Quantities.bytes(memory), slots, iterations, !noManualProtect);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "guestmem perf dirty-log: " + e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "Testing guest mode: engine (%s memslots), %d vCPU(s), %s per vCPU, %d memslot(s),"
                + " %d iterations, manual protect %s%n", impl.name().toLowerCase(Locale.ROOT), options.vcpus(),
                Quantities.formatBytes(options.bytesPerVcpu()), options.slots(), options.iterations(),
                options.manualProtect() ? "ENABLE|INITIALLY_SET" : "off");
        out.flush();
        DirtyLogPerfReport r;
        try (EngineVm vm = EngineVm.create(VmType.DEFAULT, impl)) {
            r = DirtyLogPerfRun.run(vm, options);
        }
        r.lines(options).forEach(out::println);
        out.flush();
        return ExitCode.OK;
    }
}
