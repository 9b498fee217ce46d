package dev.guestmem.perf;

import dev.guestmem.vcpu.GuestCode;

import dev.guestmem.vcpu.Guest;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * The selftest's host/guest handshake (spec §B.3): the guest reports once that it runs, waits for the start
 * flag, and then every host {@link #hostSync} is a rendezvous with one guest {@link #guestSync}: the host
 * raises the sync flag and spins until the guest takes it down. The flags live in Java rather than in the
 * first guest page, because the guest code here has no compare-and-exchange on guest memory. The guest
 * spins outside guest mode ({@link Guest#idle}) so that a TLB flush never waits for a spinning vCPU.
 */
public final class SyncFlag {
    /** The selftest's watchdog ({@code alarm(10)}). */
    private static final Duration WATCHDOG = Duration.ofSeconds(10);
    /** Spins before a spinning side yields its core: two cores are shared with the rest of the machine. */
    private static final int SPINS_BEFORE_YIELD = 1 << 10;

    private final AtomicBoolean sync = new AtomicBoolean();
    private final CountDownLatch guestRunning = new CountDownLatch(1);
    private volatile boolean start;
    private volatile boolean exit;

    /** Guest: the first {@code GUEST_SYNC}, then waits for the start flag; false if told to exit first. */
    public boolean guestStarted(Guest g) {
        g.idle(() -> {
            guestRunning.countDown();
            spin(() -> start || exit);
        });
        return !exit;
    }

    /** Host: waits (2 s, as the selftest) for the guest's first sync. */
    public void awaitGuestRunning() throws InterruptedException {
        if (!guestRunning.await(2, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the guest did not start within 2 s");
        }
    }

    /** Host: lets the guest loop begin. */
    public void start() {
        start = true;
    }

    /** Host: asks the guest to finish at its next sync or exit check. */
    public void exit() {
        exit = true;
    }

    /** Guest: whether the host asked it to finish. */
    public boolean exitRequested() {
        return exit;
    }

    /** Guest: takes the host's sync flag down; false if the host asked it to exit instead. */
    public boolean guestSync(Guest g) {
        g.idle(() -> spin(() -> sync.compareAndSet(true, false) || exit));
        return !exit;
    }

    /** Host: raises the sync flag and waits until the guest has taken it. */
    public void hostSync() {
        sync.set(true);
        long deadline = System.nanoTime() + WATCHDOG.toNanos();
        int spins = 0;
        while (sync.get()) {
            if (++spins % SPINS_BEFORE_YIELD == 0) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the guest did not sync within " + WATCHDOG.toSeconds() + " s");
                }
                Thread.yield();
            } else {
                Thread.onSpinWait();
            }
        }
    }

    private static void spin(BooleanSupplier done) {
        int spins = 0;
        while (!done.getAsBoolean()) {
            if (++spins % SPINS_BEFORE_YIELD == 0) {
                Thread.yield();
            } else {
                Thread.onSpinWait();
            }
        }
    }

    /**
     * The guest loop of the tests that work in two phases (map, unmap, rw): wait for the start, then
     * phase one, sync, phase two, sync, over and over until the host asks the guest to exit.
     */
    GuestCode alternating(GuestCode first, GuestCode second) {
        return g -> {
            if (!guestStarted(g)) {
                return;
            }
            do {
                first.run(g);
                if (!guestSync(g)) {
                    return;
                }
                second.run(g);
            } while (guestSync(g));
        };
    }
}
