package dev.guestmem.perf;

import dev.guestmem.dirty.DirtyLogCaps;
import dev.guestmem.memslot.MemslotFlags;
import dev.guestmem.vcpu.Guest;
import dev.guestmem.vcpu.GuestCode;
import dev.guestmem.vcpu.VcpuThread;
import dev.guestmem.vm.Capability;
import dev.guestmem.vm.Vm;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * dirty_log_perf_test's sequence (spec §C) on any {@link Vm}: populate, enable logging, {@code iterations}
 * rounds of dirty / get / clear, disable logging. Every vCPU thread writes each page of its slice once per
 * pass (write percentage 100, sequential: the selftest's defaults). A pass starts and ends at a barrier the
 * vCPUs wait at outside guest mode, so the host's clock measures exactly the pass.
 */
public final class DirtyLogPerfRun {
    /** Where the region starts: above the 32-bit hole, like the memstress region at the top of memory. */
    public static final long GPA = 0x1_0000_0000L;
    private static final Duration PASS_TIMEOUT = Duration.ofMinutes(10);

    private final Vm vm;
    private final DirtyLogPerfOptions options;
    private final CyclicBarrier barrier;
    /** The pass the vCPUs make next; negative ends them. Published by the barrier. */
    private long pass;

    private DirtyLogPerfRun(Vm vm, DirtyLogPerfOptions options) {
        this.vm = vm;
        this.options = options;
        this.barrier = new CyclicBarrier(options.vcpus() + 1);
    }

    /** Runs the test on {@code vm}, which must have no memslots in the region and vCPUs 0..vcpus-1. */
    public static DirtyLogPerfReport run(Vm vm, DirtyLogPerfOptions options) throws InterruptedException {
        return new DirtyLogPerfRun(vm, options).run();
    }

    private DirtyLogPerfReport run() throws InterruptedException {
        if (options.manualProtect()) {
            check(vm.enableCap(Capability.MANUAL_DIRTY_LOG_PROTECT2,
                    DirtyLogCaps.MANUAL_PROTECT_ENABLE | DirtyLogCaps.INITIALLY_SET), "enable manual protect");
        }
        long slotBytes = options.pagesPerSlot() * SlotLayout.PAGE;
        long[] hva = new long[options.slots()];
        for (int s = 0; s < options.slots(); s++) {
            hva[s] = vm.host().mmap(slotBytes);
            if (hva[s] < 0) {
                throw new IllegalStateException("mmap failed with errno " + -hva[s]);
            }
            check(vm.setUserMemoryRegion(slotId(s), 0, gpa(s), slotBytes, hva[s]), "add slot");
        }
        List<VcpuThread> threads = new ArrayList<>();
        for (int id = 0; id < options.vcpus(); id++) {
            threads.add(VcpuThread.start(vm.vcpu(id), slice(GPA + id * options.bytesPerVcpu())));
        }
        try {
            Duration populate = pass(0);
            Duration enable = timed(() -> setLogging(MemslotFlags.LOG_DIRTY_PAGES, slotBytes, hva));
            long[] bitmap = new long[(int) ((options.pagesPerSlot() + 63) / 64)];
            List<DirtyLogPerfReport.Iteration> iterations = new ArrayList<>();
            for (int it = 1; it <= options.iterations(); it++) {
                Duration dirty = pass(it);
                Duration get = Duration.ZERO;
                Duration clear = Duration.ZERO;
                for (int s = 0; s < options.slots(); s++) {
                    int slot = slotId(s);
                    get = get.plus(timed(() -> check(vm.getDirtyLog(slot, bitmap), "get dirty log")));
                    if (options.manualProtect()) {
                        clear = clear.plus(timed(() -> check(vm.clearDirtyLog(slot, 0, (int) options.pagesPerSlot(),
                                bitmap), "clear dirty log")));
                    }
                }
                iterations.add(new DirtyLogPerfReport.Iteration(dirty, get, clear));
            }
            Duration disable = timed(() -> setLogging(0, slotBytes, hva));
            return new DirtyLogPerfReport(populate, enable, iterations, disable);
        } finally {
            pass = -1;
            barrier.reset(); // vCPUs waiting at the barrier leave with BrokenBarrierException and end
            for (VcpuThread t : threads) {
                t.join(Duration.ofSeconds(30));
            }
        }
    }

    /** Slot ids 1..slots, as the memstress VM's test slots. */
    private static int slotId(int s) {
        return s + 1;
    }

    private long gpa(int s) {
        return GPA + s * options.pagesPerSlot() * SlotLayout.PAGE;
    }

    private void setLogging(int flags, long slotBytes, long[] hva) {
        for (int s = 0; s < options.slots(); s++) {
            check(vm.setUserMemoryRegion(slotId(s), flags, gpa(s), slotBytes, hva[s]), "set slot flags");
        }
    }

    /** Lets every vCPU make pass {@code number}; returns the time until the last one finished. */
    private Duration pass(long number) throws InterruptedException {
        pass = number;
        long start = System.nanoTime();
        await();
        await();
        return Duration.ofNanos(System.nanoTime() - start);
    }

    private void await() throws InterruptedException {
        try {
            barrier.await(PASS_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (BrokenBarrierException | TimeoutException e) {
            throw new IllegalStateException("a vCPU failed or stalled during a pass", e);
        }
    }

    private GuestCode slice(long base) {
        long pages = options.bytesPerVcpu() / SlotLayout.PAGE;
        return g -> {
            while (guestAwait(g)) {
                long value = pass;
                for (long p = 0; p < pages; p++) {
                    GuestStores.store(g, base + p * SlotLayout.PAGE, value);
                }
                if (!guestAwait(g)) {
                    return;
                }
            }
        };
    }

    /** A vCPU waits at the barrier outside guest mode; false once the host ended the run. */
    private boolean guestAwait(Guest g) {
        boolean[] go = new boolean[1];
        g.idle(() -> {
            try {
                barrier.await();
                go[0] = pass >= 0;
            } catch (BrokenBarrierException e) {
                go[0] = false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                go[0] = false;
            }
        });
        return go[0];
    }

    private static Duration timed(Runnable action) {
        long start = System.nanoTime();
        action.run();
        return Duration.ofNanos(System.nanoTime() - start);
    }

    private static void check(int errno, String what) {
        if (errno != 0) {
            throw new IllegalStateException(what + " failed with errno " + errno);
        }
    }
}
