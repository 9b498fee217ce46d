package dev.guestmem.migrate;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

/**
 * Stops and restarts a group of vCPU threads at their next safe point, as a VMM pauses a VM: the host
 * asks, and waits until every vCPU has parked; parked vCPUs wait outside guest mode (guest code parks
 * inside {@link dev.guestmem.vcpu.Guest#idle}). Also carries the end of the run.
 */
public final class VcpuPause {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    /** The longest a napping vCPU sleeps before it looks for a pause request again. */
    private static final long NAP_SLICE_NANOS = 1_000_000;

    private final int vcpus;
    private volatile boolean pauseRequested;
    private volatile boolean quit;
    private int parked;
    private long round;

    /** A pause for {@code vcpus} vCPUs; with {@code startPaused} they park until the first resume. */
    public VcpuPause(int vcpus, boolean startPaused) {
        this.vcpus = vcpus;
        this.pauseRequested = startPaused;
    }

    /** Guest side: whether to park now (cheap, checked between accesses). */
    public boolean pauseRequested() {
        return pauseRequested;
    }

    /** Whether the run is over. */
    public boolean quit() {
        return quit;
    }

    /** Guest side: parks until resumed or quit. */
    public synchronized void park() {
        long mine = round;
        parked++;
        notifyAll();
        while (round == mine && !quit) {
            waitQuietly();
        }
    }

    /**
     * Guest side: sleeps up to {@code nanos} (a paced guest waiting for its next batch), waking within
     * {@link #NAP_SLICE_NANOS} of a pause request or the end of the run, as a halted vCPU wakes on a kick.
     */
    public void nap(long nanos) {
        long deadline = System.nanoTime() + nanos;
        for (long left = nanos; left > 0 && !pauseRequested && !quit; left = deadline - System.nanoTime()) {
            LockSupport.parkNanos(Math.min(left, NAP_SLICE_NANOS));
        }
    }

    /** Host side: asks every vCPU to park and waits until all have. */
    public synchronized void pauseAll() {
        pauseRequested = true;
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (parked < vcpus) {
            if (quit || System.nanoTime() > deadline) {
                throw new IllegalStateException("vCPUs did not park: " + parked + " of " + vcpus);
            }
            waitQuietly();
        }
    }

    /** Host side: lets the parked vCPUs run again. */
    public synchronized void resumeAll() {
        pauseRequested = false;
        parked = 0;
        round++;
        notifyAll();
    }

    /** Host side: ends the run; parked and running vCPUs return from their guest code. */
    public synchronized void quitAll() {
        quit = true;
        notifyAll();
    }

    private void waitQuietly() {
        try {
            wait(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
