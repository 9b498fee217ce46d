package dev.guestmem.perf;

import dev.guestmem.host.Advice;
import dev.guestmem.host.HostMemory;
import dev.guestmem.vm.Vm;
import dev.guestmem.vm.VmType;

/**
 * A VM prepared as memslot_perf_test's {@code prepare_vm} does (spec §B.2): one anonymous mapping per data
 * slot ({@link HostMemory#mmapEach}), added with flags 0; {@link #setupNanos()} is the wall time of mapping
 * and adding them. Holds the
 * host-side operations of the workloads: discards split at slot boundaries and moves of the last slot.
 */
public final class PerfVm implements AutoCloseable {
    /** Slot 0's size when the benchmark adds it: the VM's own code and page tables, outside the timing. */
    private static final long SLOT0_BYTES = 1 << 20;

    private final PerfTarget target;
    private final SlotLayout layout;
    private final HostMemory host;
    private final Vm vm;
    private final long[] hva;
    private final long setupNanos;

    private PerfVm(PerfTarget target, SlotLayout layout) {
        this.target = target;
        this.layout = layout;
        this.host = new HostMemory();
        this.vm = target.factory().create(host, VmType.DEFAULT, target.impl());
        this.hva = new long[layout.slots() + 1];
        if (target.ownsSlotZero()) {
            check(vm.setUserMemoryRegion2(0, 0, 0, SLOT0_BYTES, map(SLOT0_BYTES), -1, 0), "slot 0");
        }
        long[] lengths = new long[layout.slots()];
        for (int k = 1; k <= layout.slots(); k++) {
            lengths[k - 1] = layout.bytes(k);
        }
        long start = System.nanoTime();
        // One mapping per slot, made with one mmap: the kernel merges the selftest's adjacent per-slot
        // mmaps into one VMA anyway, and 32763 system calls would measure the host's mmap, not memslots.
        long[] mapped = host.mmapEach(lengths);
        System.arraycopy(mapped, 0, hva, 1, mapped.length);
        for (int k = 1; k <= layout.slots(); k++) {
            check(vm.setUserMemoryRegion2(target.slotId(k), 0, layout.gpa(k), layout.bytes(k), hva[k], -1, 0),
                    "adding data slot " + k);
        }
        this.setupNanos = System.nanoTime() - start;
    }

    /** Creates the VM and adds all data slots of {@code layout}. */
    public static PerfVm prepare(PerfTarget target, SlotLayout layout) {
        return new PerfVm(target, layout);
    }

    /** The VM under test. */
    public Vm vm() {
        return vm;
    }

    /** The slot geometry. */
    public SlotLayout layout() {
        return layout;
    }

    /** Wall time of adding all data slots, mmap included. */
    public long setupNanos() {
        return setupNanos;
    }

    /** The host address of guest-physical {@code gpa} inside the layout. */
    public long hvaOf(long gpa) {
        int k = layout.slotOf(gpa);
        return hva[k] + (gpa - layout.gpa(k));
    }

    /**
     * {@code MADV_DONTNEED} of {@code pages} pages from {@code gpa}, {@code chunk} pages per call, each call
     * split at slot boundaries since every slot is its own mapping.
     */
    public void discard(long gpa, long pages, long chunk) {
        for (long done = 0; done < pages; done += chunk) {
            long start = gpa + done * SlotLayout.PAGE;
            long end = start + Math.min(chunk, pages - done) * SlotLayout.PAGE;
            for (int k = layout.slotOf(start); k <= layout.slots() && layout.gpa(k) < end; k++) {
                long from = Math.max(start, layout.gpa(k));
                long to = Math.min(end, layout.gpa(k) + layout.bytes(k));
                check(host.madvise(hva[k] + (from - layout.gpa(k)), to - from, Advice.DONTNEED), "madvise");
            }
        }
    }

    /** Moves the last data slot to {@code gpa} ({@code KVM_SET_USER_MEMORY_REGION2} MOVE). */
    public void moveLastSlot(long gpa) {
        int k = layout.slots();
        check(vm.setUserMemoryRegion2(target.slotId(k), 0, gpa, layout.bytes(k), hva[k], -1, 0), "move");
    }

    /** Host store through the slot's mapping. */
    public void hostWrite64(long gpa, long value) {
        host.write64(hvaOf(gpa), value);
    }

    /** Host load through the slot's mapping. */
    public long hostRead64(long gpa) {
        return host.read64(hvaOf(gpa));
    }

    @Override
    public void close() {
        try {
            vm.close();
        } finally {
            host.close();
        }
    }

    private long map(long bytes) {
        long a = host.mmap(bytes);
        if (a < 0) {
            throw new IllegalStateException("mmap of " + bytes + " bytes failed with errno " + -a);
        }
        return a;
    }

    private static void check(int errno, String what) {
        if (errno != 0) {
            throw new IllegalStateException(what + " failed with errno " + errno);
        }
    }
}
