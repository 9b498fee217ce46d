package dev.guestmem.cli;

import dev.guestmem.migrate.MigrationListener;
import dev.guestmem.migrate.MigrationOptions;
import dev.guestmem.migrate.MigrationReport;
import dev.guestmem.migrate.RoundStats;
import dev.guestmem.migrate.Verification;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * What {@code guestmem migrate} shows: a progress bar per round on stderr (when asked to), events as they
 * happen, and the summary on stdout.
 */
final class MigrationPrinter implements MigrationListener {
    /** Pages per MiB: the progress bar's unit. */
    private static final long PAGES_PER_MIB = 256;

    private final PrintWriter out;
    private final PrintStream progressStream;
    private ProgressBar bar;

    /** Prints to {@code out}; draws progress bars on {@code progressStream} if it is not null. */
    MigrationPrinter(PrintWriter out, PrintStream progressStream) {
        this.out = out;
        this.progressStream = progressStream;
    }

    void header(MigrationOptions o) {
        out.printf(Locale.ROOT, "migrating %s in %d memslots, %d vCPUs storing %s (%.0f%% into a %.0f%% hot set),"
                + " %s mode, %s%s%n", Quantities.formatBytes(o.memoryBytes()), o.slots(), o.vcpus(),
                o.writeRate() == 0 ? "nothing (idle)" : o.writeRate() + " times/s each", o.hotShare() * 100,
                o.hotFraction() * 100, o.mode(), o.bandwidth() == 0 ? "no bandwidth cap"
                        : "bandwidth cap " + Quantities.formatBytes(o.bandwidth()) + "/s",
                o.chaos() ? ", with chaos" : "");
        out.flush();
    }

    @Override
    public void roundStarted(int round, boolean stopAndCopy, long pages) {
        if (progressStream != null) {
            bar = new ProgressBarBuilder().setTaskName(roundName(round, stopAndCopy)).setInitialMax(pages)
                    .setUnit(" MiB", PAGES_PER_MIB).setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(100)
                    .setConsumer(new ConsoleProgressBarConsumer(progressStream)).hideEta().build();
        }
    }

    @Override
    public void progress(long pages) {
        if (bar != null) {
            bar.stepBy(pages);
        }
    }

    @Override
    public void roundFinished(RoundStats stats) {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }

    @Override
    public void event(String what) {
        out.println("  " + what);
        out.flush();
    }

    void summary(MigrationReport r) {
        out.println();
        out.println("round           dirty pages    sent pages   zero pages        time");
        for (RoundStats s : r.rounds()) {
            out.printf(Locale.ROOT, "%-14s %12d %13d %12d %11s%n", roundName(s.round(), s.stopAndCopy()),
                    s.dirtyPages(), s.sentPages(), s.zeroPages(), millis(s.duration()));
        }
        out.println();
        long precopy = r.rounds().stream().filter(s -> !s.stopAndCopy()).count();
        out.printf(Locale.ROOT, "rounds:      %d pre-copy + 1 stop-and-copy%n", precopy);
        out.printf(Locale.ROOT, "sent:        %s (%s of guest memory)%n", Quantities.formatBytes(r.sentBytes()),
                Quantities.formatBytes(r.options().memoryBytes()));
        out.printf(Locale.ROOT, "downtime:    %s (vCPUs paused to last page copied)%n", millis(r.downtime()));
        out.printf(Locale.ROOT, "total:       %s, %s/s of guest memory%n", millis(r.total()),
                Quantities.formatBytes(r.throughput()));
        out.printf(Locale.ROOT, "guest:       %d stores during the migration%n", r.guestStores());
        Verification v = r.verification();
        if (v.ok()) {
            out.printf(Locale.ROOT, "verified:    %d bytes identical, byte for byte; %d words read back through a"
                    + " destination vCPU agree%n", v.bytesCompared(), v.guestChecks());
        } else {
            out.printf(Locale.ROOT, "VERIFICATION FAILED: %d pages differ (slot:page %s)%n", v.mismatchCount(),
                    String.join(" ", v.mismatches()));
            v.problems().forEach(p -> out.println("  " + p));
        }
        out.flush();
    }

    private static String roundName(int round, boolean stopAndCopy) {
        return stopAndCopy ? "stop-and-copy" : round == 0 ? "round 0 (all)" : "round " + round;
    }

    private static String millis(Duration d) {
        return String.format(Locale.ROOT, "%.1f ms", d.toNanos() / 1e6);
    }
}
