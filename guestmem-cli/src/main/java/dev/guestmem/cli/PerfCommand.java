package dev.guestmem.cli;

import dev.guestmem.memslot.KvmLimits;
import dev.guestmem.perf.PerfCell;
import dev.guestmem.perf.PerfRunner;
import dev.guestmem.perf.PerfTarget;
import dev.guestmem.perf.PerfTest;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code guestmem perf}: memslot_perf_test's workloads (kernel-selftests.md §B) on the tree and array
 * memslot designs and the real kernel, printed as a table (and optionally CSV and a chart).
 */
@Command(name = "perf", mixinStandardHelpOptions = true, subcommands = PerfDirtyLogCommand.class,
        description = {"memslot_perf_test's workloads with its geometry (512 MiB + 64 KiB at gpa 0x10000000 split",
            "over the data slots; map on 32 MiB + 64 KiB, unmap on 128 MiB + 64 KiB), on the tree and array",
            "memslot designs and the real KVM. Guest loops run on a vCPU thread, the host loop on this one."},
        exitCodeListHeading = "%nExit status:%n", exitCodeList = {"0:measured", "2:usage error"})
public final class PerfCommand implements Callable<Integer> {
    /**
     * VMs the warm-up time is split over: each new VM sends the JIT down paths the previous one had not
     * taken (compiled code thrown out and rebuilt), which one long warm-up VM does not cover.
     */
    private static final int WARMUP_VMS = 3;

    @Spec
    private CommandSpec spec;

    @Option(names = "--tests", split = ",", paramLabel = "TEST",
            description = "Tests: setup, map, unmap, unmap-chunked, move-active, move-inactive, rw (default: all).")
    private List<String> tests = List.of("setup", "map", "unmap", "unmap-chunked", "move-active", "move-inactive",
            "rw");

    @Option(names = "--slots", split = ",", paramLabel = "N",
            description = "Data slot counts, 1..32763 (default: 10,30,50,100,509,8192,32763).")
    private List<Integer> slots = List.of(10, 30, 50, 100, 509, 8192, 32763);

    @Option(names = "--impl", split = ",", paramLabel = "IMPL",
            description = "Implementations: tree, array, kvm (default: all; kvm only where /dev/kvm is usable).")
    private List<String> impls = PerfTargets.NAMES;

    @Option(names = "--seconds", paramLabel = "S", description = "Seconds per run of a test (default: 5).")
    private double seconds = 5;

    @Option(names = "--warmup", paramLabel = "S",
            description = "Seconds of unrecorded runs (three VMs) of each test and implementation at the first slot"
                    + " count, so the JIT has compiled the loops before the first recorded cell; 0 = none"
                    + " (default: 1).")
    private double warmup = 1;

    @Option(names = "--runs", paramLabel = "N", description = "Runs per test; the best counts (default: 1).")
    private int runs = 1;

    @Option(names = "--csv", paramLabel = "FILE", description = "Also write test,slots,impl,seconds,iterations.")
    private Path csv;

    @Option(names = "--chart", paramLabel = "FILE.png", description = "Also draw a log-scale chart (PNG).")
    private Path chart;

    @Option(names = {"-q", "--no-slot-zap-all"},
            description = "Move tests: disable KVM_X86_QUIRK_SLOT_ZAP_ALL first, so a MOVE zaps only the moved slot"
                    + " (the selftest's -q; default: the quirk on, as a new VM has it).")
    private boolean noSlotZapAll;

    @Option(names = "--no-progress", description = "No progress bar (it is drawn only on a terminal anyway).")
    private boolean noProgress;

    @Override
    public Integer call() throws InterruptedException, IOException {
        List<PerfTest> testList = new ArrayList<>();
        List<PerfTarget> targets = new ArrayList<>();
        try {
            tests.forEach(t -> testList.add(PerfTest.parse(t)));
            impls.forEach(i -> targets.add(PerfTargets.of(i)));
            for (int s : slots) {
                if (s < 1 || s >= KvmLimits.USER_MEM_SLOTS) {
                    throw new IllegalArgumentException("slot count " + s + " is outside 1.."
                            + (KvmLimits.USER_MEM_SLOTS - 1) + " (slot 0 is reserved)");
                }
            }
            if (!(seconds > 0) || runs < 1 || !(warmup >= 0)) {
                throw new IllegalArgumentException("--seconds must be positive, --warmup not negative and --runs"
                        + " at least 1");
            }
            if (chart != null && !chart.toString().toLowerCase(Locale.ROOT).endsWith(".png")) {
                throw new IllegalArgumentException("--chart must name a .png file");
            }
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "guestmem perf: " + e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "memslot_perf_test workloads: %s s per run, %d run(s) per test, best run shown,"
                + " %s s warm-up%n", seconds, runs, warmup);
        out.flush();
        List<PerfCell> cells = measure(testList, targets);
        List<String> names = targets.stream().map(PerfTarget::name).toList();
        new PerfTable(testList, slots, names, cells).print(out);
        if (csv != null) {
            PerfCsv.write(csv, cells);
        }
        if (chart != null) {
            PerfChart.write(chart, testList, names, cells);
        }
        return ExitCode.OK;
    }

    private List<PerfCell> measure(List<PerfTest> testList, List<PerfTarget> targets) throws InterruptedException {
        PerfRunner runner = new PerfRunner(Duration.ofNanos((long) (seconds * 1e9)), runs, !noSlotZapAll);
        List<PerfCell> cells = new ArrayList<>();
        try (ProgressBar bar = progressBar((long) testList.size() * slots.size() * targets.size())) {
            for (PerfTest t : testList) {
                warmUp(t, targets);
                for (int s : slots) {
                    for (PerfTarget target : targets) {
                        if (bar != null) {
                            bar.setExtraMessage(t.cliName() + " " + s + " " + target.name());
                        }
                        Optional<String> unavailable = PerfTargets.unavailable(target);
                        cells.add(unavailable.isPresent() ? PerfCell.skipped(t, s, target.name(), unavailable.get())
                                : runner.run(t, s, target));
                        if (bar != null) {
                            bar.step();
                        }
                    }
                }
            }
        }
        return cells;
    }

    /** Unrecorded runs of {@code test}, one per warm-up VM, per available target at the first slot count. */
    private void warmUp(PerfTest test, List<PerfTarget> targets) throws InterruptedException {
        if (warmup == 0) {
            return;
        }
        PerfRunner runner = new PerfRunner(Duration.ofNanos((long) (warmup * 1e9 / WARMUP_VMS)), WARMUP_VMS,
                !noSlotZapAll);
        for (PerfTarget target : targets) {
            if (PerfTargets.unavailable(target).isEmpty()) {
                runner.run(test, slots.getFirst(), target);
            }
        }
    }

    /** A bar over all cells on stderr, only on a terminal; null otherwise. */
    private ProgressBar progressBar(long cells) {
        if (noProgress || System.console() == null) {
            return null;
        }
        return new ProgressBarBuilder().setTaskName("perf").setInitialMax(cells).setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(200).setConsumer(new ConsoleProgressBarConsumer(System.err)).build();
    }
}
