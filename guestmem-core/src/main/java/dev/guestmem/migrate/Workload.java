package dev.guestmem.migrate;

import static dev.guestmem.memslot.KvmLimits.PAGE_SHIFT;

import dev.guestmem.vcpu.Guest;
import dev.guestmem.vcpu.GuestCode;
import dev.guestmem.vm.Access;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * The guest code of one vCPU of the migrated VM: a write-heavy loop storing never-repeating 64-bit values
 * ({@code vcpu << 48 | sequence}) into random words, a share of them into a hot set (the first pages of
 * guest memory), the rest anywhere, paced to a given rate. It parks when the VMM pauses the VM. Exits it
 * tolerates: a store that leaves as MMIO (its slot is being moved: the store is lost, as a store to a
 * device would be) and a full dirty ring (it tells the VMM, waits outside guest mode and runs the same
 * store again). Anything else stops it and is reported.
 */
final class Workload implements GuestCode {
    /** Stores between two looks at the clock for pacing. */
    private static final int PACE_BATCH = 64;

    private final GuestLayout layout;
    private final VcpuPause pause;
    private final long rate;
    private final long hotPages;
    private final double hotShare;
    private final SplittableRandom random;
    private final AtomicBoolean ringFull;
    private final AtomicReference<String> failure;
    /** The last value stored; owner thread only. */
    private long sequence;
    private volatile long stores;

    Workload(GuestLayout layout, VcpuPause pause, MigrationOptions options, int vcpu, AtomicBoolean ringFull,
            AtomicReference<String> failure) {
        this.layout = layout;
        this.pause = pause;
        this.rate = options.writeRate();
        this.hotPages = Math.max(1, (long) (layout.totalPages() * options.hotFraction()));
        this.hotShare = options.hotShare();
        this.random = new SplittableRandom(options.seed() * 1_000_003 + vcpu);
        this.ringFull = ringFull;
        this.failure = failure;
        this.sequence = (long) (vcpu + 1) << 48;
    }

    /** Stores completed so far. */
    long stores() {
        return stores;
    }

    @Override
    public void run(Guest g) {
        long start = System.nanoTime();
        long done = 0;
        while (!pause.quit()) {
            if (pause.pauseRequested()) {
                g.idle(pause::park);
                start = System.nanoTime();
                done = 0;
                continue;
            }
            if (rate == 0) {
                g.idle(() -> LockSupport.parkNanos(1_000_000)); // idle guest: nothing to store
                continue;
            }
            for (int i = 0; i < PACE_BATCH && !pause.pauseRequested(); i++) {
                if (!store(g)) {
                    return;
                }
            }
            done += PACE_BATCH;
            long due = start + done * 1_000_000_000L / rate;
            long ahead = due - System.nanoTime();
            if (ahead > 0) {
                g.idle(() -> pause.nap(ahead));
            }
        }
    }

    /** One store, run again after a full ring; false if the guest must stop. */
    private boolean store(Guest g) {
        long page = random.nextDouble() < hotShare ? random.nextLong(hotPages) : random.nextLong(layout.totalPages());
        int slot = (int) (page / layout.pagesPerSlot());
        long offset = ((page % layout.pagesPerSlot()) << PAGE_SHIFT) + (random.nextLong(512) << 3);
        long value = ++sequence;
        for (;;) {
            long gpa = layout.gpa(slot) + offset; // read afresh: the slot may have moved
            if (g.write64(gpa, value)) {
                stores++;
                return true;
            }
            switch (g.lastExit()) {
                case Access.Mmio m -> {
                    return true; // the slot is being moved: the store went to no memory
                }
                case Access.RingFull r -> {
                    ringFull.set(true);
                    // Out of guest mode until the migration harvests and resets the ring; yield rather than
                    // sleep, so the store goes in as soon as it has, however short the migration.
                    g.idle(Thread::yield);
                    if (pause.quit()) {
                        return false;
                    }
                    if (pause.pauseRequested()) {
                        g.idle(pause::park);
                    }
                }
                default -> {
                    failure.compareAndSet(null, "vCPU store to 0x" + Long.toHexString(gpa) + ": " + g.lastExit());
                    return false;
                }
            }
        }
    }
}
