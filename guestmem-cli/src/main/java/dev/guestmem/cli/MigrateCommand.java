package dev.guestmem.cli;

import dev.guestmem.migrate.LogMode;
import dev.guestmem.migrate.Migration;
import dev.guestmem.migrate.MigrationOptions;
import dev.guestmem.migrate.MigrationReport;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code guestmem migrate}: live-migrates a running engine VM's memory into a second VM with dirty
 * logging (pre-copy rounds, then stop-and-copy) and verifies the destination byte for byte.
 */
@Command(name = "migrate", mixinStandardHelpOptions = true,
        description = {"Live migration on the engine: starts a VM whose vCPUs keep storing into guest memory,",
            "copies its memory into a second VM while it runs (rounds of: collect dirty pages, copy them),",
            "pauses the vCPUs once the rest is small, copies the rest and compares both memories byte for byte.",
            "Default: 256 MiB in 4 memslots, 2 vCPUs x 200k stores/s (90%% into a 2%% hot set), clear-log mode,",
            "destination memory preallocated."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:the destination equals the source", "1:verification found a difference",
            "2:usage error"})
public final class MigrateCommand implements Callable<Integer> {
    private static final MigrationOptions DEFAULTS = MigrationOptions.defaults();

    @Spec
    private CommandSpec spec;

    @Option(names = "--memory", paramLabel = "SIZE", description = "Guest memory (K/M/G suffixes; default: 256M).")
    private String memory = DEFAULTS.memoryBytes() + "";

    @Option(names = "--slots", paramLabel = "N", description = "Memslots the memory is split into (default: 4).")
    private int slots = DEFAULTS.slots();

    @Option(names = "--vcpus", paramLabel = "N", description = "vCPU threads storing into memory (default: 2).")
    private int vcpus = DEFAULTS.vcpus();

    @Option(names = "--write-rate", paramLabel = "N",
            description = "Guest stores per second per vCPU, k/m suffixes; 0 = idle (default: 200k).")
    private String writeRate = "200k";

    @Option(names = "--mode", paramLabel = "MODE",
            description = "How dirty pages are collected: bitmap, clear-log or ring (default: clear-log).")
    private String mode = DEFAULTS.mode().cliName();

    @Option(names = "--bandwidth", paramLabel = "SIZE",
            description = "Copy bandwidth cap per second, K/M/G suffixes; 0 = none (default: 0).")
    private String bandwidth = "0";

    @Option(names = "--rounds", paramLabel = "N", description = "Pre-copy rounds after the first, at most (default: 30).")
    private int rounds = DEFAULTS.maxRounds();

    @Option(names = "--chaos",
            description = "During the migration: move a memslot, discard 2 MiB of host memory, write from the VMM.")
    private boolean chaos;

    @Option(names = "--no-prealloc",
            description = "Do not fault the destination's memory in before migrating (the copy then pays for it).")
    private boolean noPrealloc;

    @Option(names = "--no-progress", description = "No progress bars (they are drawn only on a terminal anyway).")
    private boolean noProgress;

    @Override
    public Integer call() {
        MigrationOptions options;
        try {
            options = DEFAULTS.withMemory(Quantities.bytes(memory), slots).withVcpus(vcpus)
                    .withWriteRate(Quantities.count(writeRate)).withMode(LogMode.parse(mode))
                    .withBandwidth(Quantities.bytes(bandwidth)).withMaxRounds(rounds).withChaos(chaos)
                    .withPrealloc(!noPrealloc);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "guestmem migrate: " + e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        boolean bars = !noProgress && System.console() != null;
        MigrationPrinter printer = new MigrationPrinter(out, bars ? System.err : null);
        printer.header(options);
        MigrationReport report = new Migration(options, printer).run();
        printer.summary(report);
        return report.verification().ok() ? ExitCode.OK : ExitCode.MISMATCH;
    }
}
