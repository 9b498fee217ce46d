package dev.guestmem.perf;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The times dirty_log_perf_test reports (spec §C).
 *
 * @param populate   first pass of every vCPU over its slice
 * @param enable     setting LOG_DIRTY_PAGES on every slot
 * @param iterations the timed iterations, in order
 * @param disable    clearing LOG_DIRTY_PAGES on every slot
 */
public record DirtyLogPerfReport(Duration populate, Duration enable, List<Iteration> iterations, Duration disable) {
    /**
     * One iteration.
     *
     * @param dirty every vCPU's pass over its slice (write-protect faults while logging)
     * @param get   {@code KVM_GET_DIRTY_LOG} of every slot
     * @param clear {@code KVM_CLEAR_DIRTY_LOG} of every slot, zero without manual protection
     */
    public record Iteration(Duration dirty, Duration get, Duration clear) {
    }

    /**
     * The selftest's result lines, times as {@code %ld.%09lds}; the dirty lines add nanoseconds per page per
     * vCPU. Clear lines only with {@code manualProtect}.
     */
    public List<String> lines(DirtyLogPerfOptions options) {
        List<String> lines = new ArrayList<>();
        lines.add("Populate memory time: " + seconds(populate));
        lines.add("Enabling dirty logging time: " + seconds(enable));
        double pagesPerVcpu = options.bytesPerVcpu() / (double) SlotLayout.PAGE;
        for (int i = 0; i < iterations.size(); i++) {
            Iteration it = iterations.get(i);
            lines.add(String.format(Locale.ROOT, "Iteration %d dirty memory time: %s (%.0f ns per page per vCPU)", i + 1,
                    seconds(it.dirty()), it.dirty().toNanos() / pagesPerVcpu));
            lines.add("Iteration " + (i + 1) + " get dirty log time: " + seconds(it.get()));
            if (options.manualProtect()) {
                lines.add("Iteration " + (i + 1) + " clear dirty log time: " + seconds(it.clear()));
            }
        }
        lines.add("Disabling dirty logging time: " + seconds(disable));
        int n = iterations.size();
        lines.add("Get dirty log over " + n + " iterations took " + seconds(getTotal()) + ". (Avg "
                + seconds(getTotal().dividedBy(n)) + "/iteration)");
        if (options.manualProtect()) {
            lines.add("Clear dirty log over " + n + " iterations took " + seconds(clearTotal()) + ". (Avg "
                    + seconds(clearTotal().dividedBy(n)) + "/iteration)");
        }
        return lines;
    }

    private static String seconds(Duration d) {
        return String.format(Locale.ROOT, "%d.%09ds", d.toSeconds(), d.toNanosPart());
    }

    /** Sum of the get times. */
    public Duration getTotal() {
        return iterations.stream().map(Iteration::get).reduce(Duration.ZERO, Duration::plus);
    }

    /** Sum of the clear times. */
    public Duration clearTotal() {
        return iterations.stream().map(Iteration::clear).reduce(Duration.ZERO, Duration::plus);
    }
}
