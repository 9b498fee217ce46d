package dev.guestmem.bench;

import dev.guestmem.dirty.DirtyLogCaps;
import dev.guestmem.memslot.MemslotFlags;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.vcpu.Guest;
import dev.guestmem.vcpu.GuestCode;
import dev.guestmem.vcpu.VcpuThread;
import dev.guestmem.vm.Capability;
import dev.guestmem.vm.EngineVm;
import dev.guestmem.vm.VmType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A port of {@code dirty_log_perf_test.c} (kernel-selftests.md §C) to the engine: {@code -v} vCPU threads,
 * each with its own {@code -b} slice of one logging memslot; populate (every page written once), enable
 * dirty logging (FLAGS_ONLY), then {@code -i} iterations of: every vCPU writes every page of its slice
 * once ("dirty memory"), {@code KVM_GET_DIRTY_LOG}, and with manual protection (default, as in the
 * selftest: ENABLE | INITIALLY_SET; {@code -g} drops it) {@code KVM_CLEAR_DIRTY_LOG}; finally disable
 * logging. Prints the selftest's lines. No bitmap contents are checked: this is a benchmark.
 *
 * <p>{@code java -cp guestmem-bench/target/benchmarks.jar dev.guestmem.bench.DirtyLogPerf -v 2 -b 1G -i 5}
 */
public final class DirtyLogPerf {
    private static final long GPA = 0x1_0000_0000L;
    private static final int SLOT = 1;
    private static final long PAGE = 4096;

    private final int vcpus;
    private final long bytesPerVcpu;
    private final int iterations;
    private final boolean manual;
    private final EngineVm vm;
    private final long pagesPerVcpu;
    private final Object lock = new Object();
    /** The pass the vCPUs should make next (0: populate); -1 ends them. Guarded by {@link #lock}. */
    private long pass = -1;
    private int done;

    private DirtyLogPerf(int vcpus, long bytesPerVcpu, int iterations, boolean manual) {
        this.vcpus = vcpus;
        this.bytesPerVcpu = bytesPerVcpu;
        this.iterations = iterations;
        this.manual = manual;
        this.pagesPerVcpu = bytesPerVcpu / PAGE;
        this.vm = EngineVm.create(VmType.DEFAULT, MemslotImpl.TREE);
    }

    public static void main(String[] args) throws InterruptedException {
        int vcpus = 1;
        long bytes = 1L << 30;
        int iterations = 2;
        boolean manual = true;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "-v" -> vcpus = Integer.parseInt(args[++i]);
                case "-b" -> bytes = parseBytes(args[++i]);
                case "-i" -> iterations = Integer.parseInt(args[++i]);
                case "-g" -> manual = false;
                default -> throw new IllegalArgumentException("usage: DirtyLogPerf [-v VCPUS] [-b BYTES] [-i N] [-g]");
            }
        }
        if (iterations < 2) {
            throw new IllegalArgumentException("-i must be at least 2, as in the selftest");
        }
        new DirtyLogPerf(vcpus, bytes, iterations, manual).run();
    }

    private void run() throws InterruptedException {
        long slotBytes = bytesPerVcpu * vcpus;
        if (manual) {
            check(vm.enableCap(Capability.MANUAL_DIRTY_LOG_PROTECT2,
                    DirtyLogCaps.MANUAL_PROTECT_ENABLE | DirtyLogCaps.INITIALLY_SET));
        }
        long hva = vm.host().mmap(slotBytes);
        check(vm.setUserMemoryRegion(SLOT, 0, GPA, slotBytes, hva));
        System.out.printf(Locale.ROOT, "Testing guest mode: engine TDP, %d vCPU(s), %d MiB per vCPU, %d iterations, "
                + "manual protect %s%n", vcpus, bytesPerVcpu >>> 20, iterations, manual ? "ENABLE|INITIALLY_SET"
                : "off");
        List<VcpuThread> threads = new ArrayList<>();
        for (int id = 0; id < vcpus; id++) {
            threads.add(VcpuThread.start(vm.vcpu(id), new Pass(id)));
        }
        Duration populate = runPass(0);
        System.out.printf(Locale.ROOT, "Populate memory time: %s%n", seconds(populate));

        long start = System.nanoTime();
        check(vm.setUserMemoryRegion(SLOT, MemslotFlags.LOG_DIRTY_PAGES, GPA, slotBytes, hva));
        System.out.printf(Locale.ROOT, "Enabling dirty logging time: %s%n", seconds(since(start)));

        long[] bitmap = new long[(int) ((slotBytes / PAGE + 63) / 64)];
        long getTotal = 0;
        long clearTotal = 0;
        for (int it = 1; it <= iterations; it++) {
            Duration dirty = runPass(it);
            System.out.printf(Locale.ROOT, "Iteration %d dirty memory time: %s (%.0f ns per page per vCPU)%n", it,
                    seconds(dirty), dirty.toNanos() / (double) pagesPerVcpu);
            start = System.nanoTime();
            check(vm.getDirtyLog(SLOT, bitmap));
            long get = System.nanoTime() - start;
            getTotal += get;
            System.out.printf(Locale.ROOT, "Iteration %d get dirty log time: %s%n", it, seconds(Duration.ofNanos(get)));
            if (manual) {
                start = System.nanoTime();
                check(vm.clearDirtyLog(SLOT, 0, (int) (slotBytes / PAGE), bitmap));
                long clear = System.nanoTime() - start;
                clearTotal += clear;
                System.out.printf(Locale.ROOT, "Iteration %d clear dirty log time: %s%n", it,
                        seconds(Duration.ofNanos(clear)));
            }
        }
        start = System.nanoTime();
        check(vm.setUserMemoryRegion(SLOT, 0, GPA, slotBytes, hva));
        System.out.printf(Locale.ROOT, "Disabling dirty logging time: %s%n", seconds(since(start)));
        synchronized (lock) {
            pass = -1;
            lock.notifyAll();
        }
        for (VcpuThread t : threads) {
            t.join(Duration.ofSeconds(60));
        }
        System.out.printf(Locale.ROOT, "Get dirty log over %d iterations took %s. (Avg %s/iteration)%n", iterations,
                seconds(Duration.ofNanos(getTotal)), seconds(Duration.ofNanos(getTotal / iterations)));
        if (manual) {
            System.out.printf(Locale.ROOT, "Clear dirty log over %d iterations took %s. (Avg %s/iteration)%n",
                    iterations, seconds(Duration.ofNanos(clearTotal)), seconds(Duration.ofNanos(clearTotal / iterations)));
        }
        vm.close();
    }

    /** Lets every vCPU make pass {@code number} and waits until all are done; returns how long it took. */
    private Duration runPass(long number) throws InterruptedException {
        long start = System.nanoTime();
        synchronized (lock) {
            done = 0;
            pass = number;
            lock.notifyAll();
            while (done < vcpus) {
                lock.wait();
            }
        }
        return since(start);
    }

    /** One vCPU: waits (outside guest mode) for each pass, writes every page of its slice once, reports. */
    private final class Pass implements GuestCode {
        private final long base;

        Pass(int id) {
            this.base = GPA + id * bytesPerVcpu;
        }

        @Override
        public void run(Guest g) {
            long last = -1;
            for (;;) {
                long next = awaitPass(g, last);
                if (next < 0) {
                    return;
                }
                for (long p = 0; p < pagesPerVcpu; p++) {
                    g.write64(base + p * PAGE, next);
                }
                last = next;
                synchronized (lock) {
                    done++;
                    lock.notifyAll();
                }
            }
        }

        private long awaitPass(Guest g, long last) {
            long[] next = new long[1];
            g.idle(() -> {
                synchronized (lock) {
                    while (pass == last) {
                        try {
                            lock.wait();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new IllegalStateException(e);
                        }
                    }
                    next[0] = pass;
                }
            });
            return next[0];
        }
    }

    private static Duration since(long start) {
        return Duration.ofNanos(System.nanoTime() - start);
    }

    private static String seconds(Duration d) {
        return String.format(Locale.ROOT, "%d.%09ds", d.toSeconds(), d.toNanosPart());
    }

    private static long parseBytes(String text) {
        char unit = Character.toUpperCase(text.charAt(text.length() - 1));
        int shift = switch (unit) {
            case 'K' -> 10;
            case 'M' -> 20;
            case 'G' -> 30;
            default -> 0;
        };
        return Long.parseLong(shift == 0 ? text : text.substring(0, text.length() - 1)) << shift;
    }

    private static void check(int errno) {
        if (errno != 0) {
            throw new IllegalStateException("errno " + errno);
        }
    }
}
