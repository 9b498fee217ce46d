package dev.guestmem.migrate;

import static dev.guestmem.memslot.KvmLimits.PAGE_SIZE;

import dev.guestmem.dirty.DirtyLogCaps;
import dev.guestmem.host.Advice;
import dev.guestmem.host.HostMemory;
import dev.guestmem.memslot.MemslotFlags;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.vcpu.VcpuThread;
import dev.guestmem.vm.Capability;
import dev.guestmem.vm.EngineVm;
import dev.guestmem.vm.VmConfig;
import dev.guestmem.vm.VmType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * The VM being migrated: an engine VM with its own host memory, its memslots filled with a per-page
 * pattern (as if a guest had booted and used them), huge-page advised, and vCPU threads running the
 * {@link Workload} from the start. In ring mode the ring is enabled before the vCPUs exist, as the kernel
 * requires.
 */
final class SourceMachine implements AutoCloseable {
    private static final long START_TIMEOUT_NANOS = 30_000_000_000L;
    private static final long HUGE = 2L << 20;

    private final EngineVm vm;
    private final GuestLayout layout;
    private final MigrationOptions options;
    private final VcpuPause pause;
    private final AtomicBoolean ringFull = new AtomicBoolean();
    private final AtomicReference<String> failure = new AtomicReference<>();
    private final List<Workload> workloads = new ArrayList<>();
    private final List<VcpuThread> threads = new ArrayList<>();

    SourceMachine(MigrationOptions options, GuestLayout layout) {
        this.options = options;
        this.layout = layout;
        this.vm = EngineVm.create(VmConfig.of(VmType.DEFAULT, MemslotImpl.TREE));
        this.pause = new VcpuPause(options.vcpus(), false);
        if (options.mode() == LogMode.RING) {
            int err = vm.enableCap(Capability.DIRTY_LOG_RING, DirtyLogCaps.MAX_RING_BYTES);
            if (err != 0) {
                throw new IllegalStateException("KVM_CAP_DIRTY_LOG_RING: errno " + err);
            }
        }
        for (int i = 0; i < layout.slots(); i++) {
            long hva = hugeAlignedMapping(vm.host(), layout.slotBytes());
            layout.setSourceHva(i, hva);
            populate(i, hva);
            check(vm.setUserMemoryRegion(GuestLayout.id(i), 0, layout.gpa(i), layout.slotBytes(), hva), "slot");
        }
    }

    /** Starts one thread per vCPU running the workload. */
    void start() {
        for (int id = 0; id < options.vcpus(); id++) {
            Workload w = new Workload(layout, pause, options, id, ringFull, failure);
            workloads.add(w);
            threads.add(VcpuThread.start(vm.vcpu(id), w));
        }
        awaitRunning();
    }

    /**
     * Returns once every vCPU has made a store, so the migration that follows really races a running guest
     * (thread start-up can take a while on a busy machine). Idle vCPUs store nothing: no wait.
     */
    private void awaitRunning() {
        if (options.writeRate() > 0
                && !awaitUntil(() -> workloads.stream().allMatch(w -> w.stores() > 0), START_TIMEOUT_NANOS, () -> { })
                && failure.get() == null) { // a vCPU that failed is reported after the migration
            throw new IllegalStateException("the vCPUs made no store within 30 s of starting");
        }
    }

    /**
     * Waits until the guest has made more than {@code mark} stores in all (a {@link #guestStores} reading),
     * a vCPU has failed, or {@code timeoutNanos} have passed; runs {@code meanwhile} between looks (the
     * migration harvests full dirty rings there, which a storing vCPU may be waiting for).
     *
     * @return whether the guest stored
     */
    boolean awaitStoresSince(long mark, long timeoutNanos, Runnable meanwhile) {
        return awaitUntil(() -> guestStores() > mark, timeoutNanos, meanwhile);
    }

    private boolean awaitUntil(BooleanSupplier done, long timeoutNanos, Runnable meanwhile) {
        long deadline = System.nanoTime() + timeoutNanos;
        while (!done.getAsBoolean()) {
            if (failure.get() != null || System.nanoTime() - deadline > 0) {
                return false;
            }
            meanwhile.run();
            LockSupport.parkNanos(20_000);
        }
        return true;
    }

    /**
     * A mapping of {@code bytes} starting on a 2 MiB boundary (carved out of a larger reservation) with
     * {@code MADV_HUGEPAGE}, so that the guest is mapped with 2 MiB pages until logging splits them.
     */
    static long hugeAlignedMapping(HostMemory host, long bytes) {
        long raw = host.mmap(bytes + HUGE);
        if (raw < 0) {
            throw new IllegalStateException("mmap of " + bytes + " bytes: errno " + -raw);
        }
        long hva = (raw + HUGE - 1) & -HUGE;
        check(host.madvise(hva, bytes, Advice.HUGEPAGE), "madvise(MADV_HUGEPAGE)");
        return hva;
    }

    /** Fills slot {@code i} 2 MiB at a time: random bytes, with each page's first word naming the page. */
    private void populate(int i, long hva) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment chunk = arena.allocate(HUGE, PAGE_SIZE);
            SplittableRandom random = new SplittableRandom(options.seed() + i);
            for (long o = 0; o < HUGE; o += 8) {
                chunk.set(ValueLayout.JAVA_LONG, o, random.nextLong());
            }
            for (long at = 0; at < layout.slotBytes(); at += HUGE) {
                for (long p = 0; p < HUGE; p += PAGE_SIZE) {
                    chunk.set(ValueLayout.JAVA_LONG, p, (long) GuestLayout.id(i) << 40 | (at + p) / PAGE_SIZE);
                }
                vm.host().write(hva + at, chunk);
            }
        }
    }

    /** Turns dirty logging on for every slot (FLAGS_ONLY), after manual protection in clear-log mode. */
    void startLogging() {
        if (options.mode() == LogMode.CLEAR_LOG) {
            check(vm.enableCap(Capability.MANUAL_DIRTY_LOG_PROTECT2,
                    DirtyLogCaps.MANUAL_PROTECT_ENABLE | DirtyLogCaps.INITIALLY_SET), "manual protect");
        }
        for (int i = 0; i < layout.slots(); i++) {
            check(vm.setUserMemoryRegion(GuestLayout.id(i), MemslotFlags.LOG_DIRTY_PAGES, layout.gpa(i),
                    layout.slotBytes(), layout.sourceHva(i)), "logging on");
        }
    }

    /** Pauses every vCPU (they park outside guest mode). */
    void pauseVcpus() {
        pause.pauseAll();
    }

    /** Whether a vCPU found its dirty ring full since the last call. */
    boolean takeRingFull() {
        return ringFull.getAndSet(false);
    }

    /** Guest stores completed so far, over all vCPUs. */
    long guestStores() {
        return workloads.stream().mapToLong(Workload::stores).sum();
    }

    /** Why a vCPU stopped, if one did. */
    String failure() {
        return failure.get();
    }

    EngineVm vm() {
        return vm;
    }

    HostMemory host() {
        return vm.host();
    }

    @Override
    public void close() {
        pause.quitAll();
        try {
            for (VcpuThread t : threads) {
                t.join(Duration.ofSeconds(30));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            vm.close();
        }
    }

    static void check(int err, String what) {
        if (err != 0) {
            throw new IllegalStateException(what + ": errno " + err);
        }
    }
}
