package dev.guestmem.vcpu;

import dev.guestmem.vm.Access;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Guest code that keeps loading one gpa (the guest loop of set_memory_region_test) and records each
 * change of what it sees: a value, or {@link #MMIO} for a load that exited (the selftest's 0xBEEF).
 */
final class GuestReader implements GuestCode {
    /** What an MMIO exit is recorded as (the sentinel the selftest's host answers with). */
    static final long MMIO = 0xBEEF_0000_0000_0000L;
    /** Recorded when a load ends in anything but a value or an MMIO exit. */
    static final long OTHER = 0xDEAD_0000_0000_0000L;

    private final long gpa;
    private final List<Long> changes = new ArrayList<>();
    private volatile boolean stop;
    private volatile long reads;
    private volatile long last = -1;

    GuestReader(long gpa) {
        this.gpa = gpa;
    }

    @Override
    public void run(Guest guest) {
        long previous = -1;
        while (!stop) {
            long v = guest.read64(gpa);
            Access exit = guest.lastExit();
            long seen = exit == null ? v : exit instanceof Access.Mmio ? MMIO : OTHER;
            if (seen != previous) {
                synchronized (changes) {
                    changes.add(seen);
                }
                previous = seen;
            }
            last = seen;
            reads = reads + 1;
        }
    }

    void stop() {
        stop = true;
    }

    /** The distinct consecutive observations so far. */
    List<Long> changes() {
        synchronized (changes) {
            return List.copyOf(changes);
        }
    }

    /** What a load that started after this call saw. */
    long freshRead() throws InterruptedException {
        long target = reads + 2; // the load in progress may have started before the call
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (reads < target) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the guest reader makes no progress");
            }
            Thread.sleep(0, 100_000);
        }
        return last;
    }

    /** Waits (bounded) until a load sees {@code value}. */
    void awaitValue(long value) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (freshRead() != value) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the guest never saw 0x" + Long.toHexString(value) + ": " + changes());
            }
        }
    }
}
