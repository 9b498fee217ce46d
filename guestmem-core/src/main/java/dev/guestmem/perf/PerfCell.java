package dev.guestmem.perf;

/**
 * The result of one test at one slot count on one implementation: the best run's seconds per iteration
 * (for {@code setup}: the total), or why it was not measured.
 *
 * @param test       the test
 * @param slots      data slots
 * @param impl       the implementation's name
 * @param seconds    best seconds per iteration (setup: seconds in total); NaN when skipped
 * @param iterations iterations of the best run (1 for setup, 0 when skipped)
 * @param skipped    why it was not measured, or null
 */
public record PerfCell(PerfTest test, int slots, String impl, double seconds, long iterations, String skipped) {
    /** A measured cell. */
    public static PerfCell measured(PerfTest test, int slots, String impl, double seconds, long iterations) {
        return new PerfCell(test, slots, impl, seconds, iterations, null);
    }

    /** A cell not measured, with the reason. */
    public static PerfCell skipped(PerfTest test, int slots, String impl, String reason) {
        return new PerfCell(test, slots, impl, Double.NaN, 0, reason);
    }

    /** Whether it holds a measurement. */
    public boolean isMeasured() {
        return skipped == null;
    }
}
