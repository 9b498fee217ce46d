package dev.guestmem.perf;

import dev.guestmem.Errno;
import dev.guestmem.vcpu.VcpuThread;
import dev.guestmem.vm.Capability;
import dev.guestmem.vm.Quirks;
import java.time.Duration;
import java.util.Optional;

/**
 * memslot_perf_test's {@code test_execute} (spec §B.3): per run a fresh VM with all data slots, the guest
 * loop on a vCPU thread, the host loop on the calling thread until {@code maxTime} has passed (the last
 * iteration may run past it and counts), then exit and join; the best run's average wins.
 */
public final class PerfRunner {
    private static final Duration JOIN_TIMEOUT = Duration.ofSeconds(30);

    private final Duration maxTime;
    private final int runs;
    private final boolean slotZapAll;

    /** Runs each test {@code runs} times for {@code maxTime} each, with the VMs' default quirks. */
    public PerfRunner(Duration maxTime, int runs) {
        this(maxTime, runs, true);
    }

    /**
     * As {@link #PerfRunner(Duration, int)}; with {@code slotZapAll} false the move tests first disable
     * {@code KVM_X86_QUIRK_SLOT_ZAP_ALL} (the selftest's {@code -q}), so a MOVE zaps only the moved slot.
     */
    public PerfRunner(Duration maxTime, int runs, boolean slotZapAll) {
        if (maxTime.isNegative() || maxTime.isZero() || runs < 1) {
            throw new IllegalArgumentException("need a positive time and at least one run");
        }
        this.maxTime = maxTime;
        this.runs = runs;
        this.slotZapAll = slotZapAll;
    }

    /** Measures {@code test} with {@code slots} data slots on {@code target}, or says why it cannot. */
    public PerfCell run(PerfTest test, int slots, PerfTarget target) throws InterruptedException {
        Optional<String> infeasible = SlotLayout.infeasibility(test, slots);
        if (infeasible.isPresent()) {
            return PerfCell.skipped(test, slots, target.name(), infeasible.get());
        }
        if (target.needsGuestCode().contains(test)) {
            return PerfCell.skipped(test, slots, target.name(), "n/a: needs guest code");
        }
        SlotLayout layout = SlotLayout.of(slots, test.memPages()).orElseThrow();
        PerfCell best = null;
        for (int r = 0; r < runs; r++) {
            PerfCell cell = once(test, layout, target);
            if (!cell.isMeasured()) {
                return cell;
            }
            if (best == null || cell.seconds() < best.seconds()) {
                best = cell;
            }
        }
        return best;
    }

    private PerfCell once(PerfTest test, SlotLayout layout, PerfTarget target) throws InterruptedException {
        try (PerfVm vm = PerfVm.prepare(target, layout)) {
            if (test == PerfTest.SETUP) {
                return PerfCell.measured(test, layout.slots(), target.name(), vm.setupNanos() / 1e9, 1);
            }
            if (!slotZapAll && test.movesSlots()) {
                int err = vm.vm().enableCap(Capability.DISABLE_QUIRKS2, Quirks.SLOT_ZAP_ALL);
                if (err != 0) {
                    return PerfCell.skipped(test, layout.slots(), target.name(),
                            "KVM_X86_QUIRK_SLOT_ZAP_ALL cannot be disabled: " + Errno.name(err));
                }
            }
            SyncFlag sync = new SyncFlag();
            Workload workload = Workload.of(test, vm, sync);
            VcpuThread vcpu = VcpuThread.start(vm.vm().vcpu(0), workload.guest());
            long iterations = 0;
            long elapsed;
            try {
                sync.awaitGuestRunning();
                long start = System.nanoTime();
                sync.start();
                while ((elapsed = System.nanoTime() - start) < maxTime.toNanos()) {
                    workload.hostLoop();
                    iterations++;
                }
            } finally {
                sync.exit();
                vcpu.join(JOIN_TIMEOUT);
            }
            return PerfCell.measured(test, layout.slots(), target.name(), elapsed / 1e9 / iterations, iterations);
        }
    }
}
