package dev.guestmem.perf;

import java.time.Duration;
import java.util.List;

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

    /** Sum of the get times. */
    public Duration getTotal() {
        return iterations.stream().map(Iteration::get).reduce(Duration.ZERO, Duration::plus);
    }

    /** Sum of the clear times. */
    public Duration clearTotal() {
        return iterations.stream().map(Iteration::clear).reduce(Duration.ZERO, Duration::plus);
    }
}
