package dev.guestmem.vcpu;

import static dev.guestmem.memslot.KvmLimits.PAGE_SHIFT;
import static dev.guestmem.memslot.KvmLimits.PAGE_SIZE;

import dev.guestmem.mmu.FaultHandler;
import dev.guestmem.mmu.FaultOutcome;
import dev.guestmem.mmu.TdpMmu;
import dev.guestmem.mmu.VcpuCounters;
import dev.guestmem.mmu.VcpuStats;
import dev.guestmem.memslot.VcpuSlotCache;
import dev.guestmem.sync.Backoff;
import dev.guestmem.vm.Access;
import dev.guestmem.vm.Vcpu;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * A vCPU of the engine: guest accesses go through a software TLB filled by a hardware page walk of the
 * TDP tables, EPT violations go to the {@link FaultHandler}, and remote TLB flushes reach it through
 * request bits and kicks (mmu.md §4.1, §8.4 rule 7). One thread at a time drives it: a trace calling
 * {@link #read64}, or a thread running {@link #run guest code} (see {@link VcpuThread}).
 *
 * <h2>Guest mode</h2>
 * {@code mode} is OUTSIDE, IN_GUEST or EXITING. Entering: store IN_GUEST, then read the requests (and the
 * mode again); anything pending sends the vCPU back out to service it first. A flusher sets the request
 * bit, then tries to CAS IN_GUEST→EXITING; Java volatile accesses are sequentially consistent, so of the
 * two "write then read" sequences at least one sees the other (the Dekker pair of the kernel's full
 * barriers): either the vCPU sees the request before it runs guest code, or the flusher sees IN_GUEST and
 * waits. Every guest access first checks that the mode is still IN_GUEST, which is where a kick (the IPI)
 * is noticed; leaving guest mode stores OUTSIDE, services the requests (dropping the TLB and the
 * paging-structure cache) and only then advances {@code exitEpoch}, which is what the flusher waits for.
 *
 * <h2>Why an access never touches memory it must not</h2>
 * Host memory is read and written through one global segment at the address a TLB entry holds, only in
 * guest mode, only when the entry's tag matches the gfn. A TLB entry is filled only from a present leaf
 * read during a walk; that leaf was installed by a fault that resolved the page with GUP inside the VM's
 * SRCU section and re-checked the invalidation sequence under the MMU lock (kvm-memory-spec §3.5). The
 * host unmaps or protects a page only after {@code invalidate_range_start} returned, and that call first
 * marks the range in progress (so no fault can install it again), zaps every leaf mapping it in every
 * slot whose hva range intersects — INVALID slots included — and flushes: the flush returns only once
 * every vCPU that was in guest mode has left it, and a vCPU leaves only after dropping its TLB, while a
 * vCPU outside guest mode holds the request and drops its TLB before it can enter again. Memslot DELETE
 * and MOVE zap and flush the old slot the same way while its INVALID copy is published, before the slot
 * (and with it the notifier's way to find those leaves) disappears. So when the host changes a page, no
 * TLB entry that could still be used names it, and a stale entry can only ever be used before that.
 */
public final class MmuVcpu implements Vcpu {
    static final int OUTSIDE = 0;
    static final int IN_GUEST = 1;
    static final int EXITING = 2;
    /** {@code KVM_REQ_TLB_FLUSH}. */
    static final long REQ_TLB_FLUSH = 1L;
    /** {@code KVM_REQ_DIRTY_RING_SOFT_FULL}: entering the guest is refused while the ring stays soft-full. */
    static final long REQ_DIRTY_RING_SOFT_FULL = 1L << 1;

    private static final VarHandle MODE;
    private static final VarHandle REQUESTS;
    private static final VarHandle DRIVER;
    private static final long PAGE_OFFSET = PAGE_SIZE - 1;
    private static final long EXITED = -1;
    private static final long EMULATED = -2;

    /** All of memory; touched only at addresses a live TLB entry vouches for (see the class comment). */
    @SuppressWarnings("restricted")
    private static final MemorySegment MEMORY = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            MODE = lookup.findVarHandle(MmuVcpu.class, "mode", int.class);
            REQUESTS = lookup.findVarHandle(MmuVcpu.class, "requests", long.class);
            DRIVER = lookup.findVarHandle(MmuVcpu.class, "driver", Thread.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int id;
    private final FaultHandler faults;
    private final Tlb tlb = new Tlb();
    private final PagingStructureCache psc = new PagingStructureCache();
    private final HardwareWalker walker;
    private final VcpuSlotCache slotCache = new VcpuSlotCache();
    private final VcpuCounters counters = new VcpuCounters();
    private final Guest guest = new InGuest();

    private volatile int mode = OUTSIDE;
    private volatile long requests;
    private volatile long exitEpoch;
    @SuppressWarnings("unused") // accessed through DRIVER
    private volatile Thread driver;
    /** The exit of the latest access; owner thread only. */
    private Access lastExit;
    /** Whether the dirty ring is still soft-full; set with {@link #REQ_DIRTY_RING_SOFT_FULL}, owner thread only. */
    private BooleanSupplier dirtyRingFull;

    /** A vCPU walking {@code mmu}'s tables and faulting into {@code faults}. */
    public MmuVcpu(int id, TdpMmu mmu, FaultHandler faults) {
        this.id = id;
        this.faults = faults;
        this.walker = new HardwareWalker(mmu, tlb, psc);
    }

    @Override
    public int id() {
        return id;
    }

    // ---------------------------------------------------------------------------------------------
    // The Vcpu API: one access, entering and leaving guest mode around it

    @Override
    public Access read64(long gpa) {
        boolean claimed = claim();
        try {
            long value = load(gpa);
            return lastExit == null ? new Access.Value(value) : lastExit;
        } finally {
            release(claimed);
        }
    }

    @Override
    public Access write64(long gpa, long value) {
        boolean claimed = claim();
        try {
            return store(gpa, value) ? Access.STORED : lastExit;
        } finally {
            release(claimed);
        }
    }

    /**
     * Copies {@code dst.byteSize()} bytes of guest memory from {@code gpa} into {@code dst}, page by page
     * through the TLB. Returns {@code Value(bytes copied)}, or the exit of the first page that exits.
     */
    public Access read(long gpa, MemorySegment dst) {
        return copy(gpa, dst, false);
    }

    /**
     * Copies {@code src} to guest memory at {@code gpa}, page by page through the TLB (a write-tracked
     * page is emulated 8 bytes at a time, so {@code gpa} and the length must then be 8-byte aligned).
     * Returns {@code STORED}, or the exit of the first page that exits; earlier pages stay written.
     */
    public Access write(long gpa, MemorySegment src) {
        return copy(gpa, src, true);
    }

    /** Runs {@code code} in guest mode on the calling thread until it returns. */
    @Override
    public void run(GuestCode code) {
        boolean claimed = claim();
        try {
            code.run(guest);
        } finally {
            release(claimed);
        }
    }

    @Override
    public Optional<VcpuStats> stats() {
        return Optional.of(counters.snapshot());
    }

    // ---------------------------------------------------------------------------------------------
    // Accesses (guest mode)

    long load(long gpa) {
        requireAligned(gpa);
        if (mode != IN_GUEST && !reenter()) {
            return 0;
        }
        long gfn = gpa >>> PAGE_SHIFT;
        int i = Tlb.slot(gfn);
        if (tlb.readTag[i] == gfn) {
            lastExit = null;
            return MEMORY.get(ValueLayout.JAVA_LONG, tlb.hostPage[i] + (gpa & PAGE_OFFSET));
        }
        long host = translateMiss(gpa, false, 0);
        if (host < 0) {
            return 0;
        }
        lastExit = null;
        return MEMORY.get(ValueLayout.JAVA_LONG, host + (gpa & PAGE_OFFSET));
    }

    boolean store(long gpa, long value) {
        requireAligned(gpa);
        if (mode != IN_GUEST && !reenter()) {
            return false;
        }
        long gfn = gpa >>> PAGE_SHIFT;
        int i = Tlb.slot(gfn);
        if (tlb.writeTag[i] == gfn) {
            lastExit = null;
            MEMORY.set(ValueLayout.JAVA_LONG, tlb.hostPage[i] + (gpa & PAGE_OFFSET), value);
            return true;
        }
        long host = translateMiss(gpa, true, value);
        if (host == EXITED) {
            return false;
        }
        lastExit = null;
        if (host != EMULATED) {
            MEMORY.set(ValueLayout.JAVA_LONG, host + (gpa & PAGE_OFFSET), value);
        }
        return true;
    }

    /**
     * A TLB miss in guest mode: walk; on an EPT violation leave guest mode, let the MMU handle the fault
     * and walk again. Returns the host page's address (back in guest mode), or {@link #EXITED} with
     * {@code lastExit} set, or {@link #EMULATED} (both outside guest mode).
     */
    private long translateMiss(long gpa, boolean write, long value) {
        long gfn = gpa >>> PAGE_SHIFT;
        Backoff retries = null;
        for (;;) {
            counters.countTlbMiss();
            if (walker.walk(gfn, write) == HardwareWalker.HIT) {
                return walker.host();
            }
            FaultHandler.Kind kind = walker.fault();
            long spte = walker.lastSpte();
            exitGuest();
            FaultOutcome outcome = faults.handle(slotCache, counters, gpa, write, value, kind, spte);
            switch (outcome) {
                case RETRY_ACCESS -> {
                    if (retries == null) {
                        retries = new Backoff(); // a fault raced an invalidation or another fault: wait a little
                    }
                    retries.pause();
                    if (!enterGuest()) {
                        return EXITED;
                    }
                }
                case MMIO_EXIT -> {
                    counters.countMmioExit();
                    lastExit = new Access.Mmio(gpa, write);
                    return EXITED;
                }
                case EFAULT -> {
                    counters.countEfault();
                    lastExit = new Access.Efault(gpa);
                    return EXITED;
                }
                case EMULATED -> {
                    return EMULATED;
                }
                case MEMORY_FAULT_PRIVATE, MEMORY_FAULT_SHARED -> {
                    counters.countEfault();
                    lastExit = new Access.MemoryFault(gpa & ~PAGE_OFFSET, PAGE_SIZE,
                            outcome == FaultOutcome.MEMORY_FAULT_PRIVATE);
                    return EXITED;
                }
            }
        }
    }

    private Access copy(long gpa, MemorySegment buffer, boolean write) {
        boolean claimed = claim();
        try {
            long done = 0;
            long length = buffer.byteSize();
            while (done < length) {
                long at = gpa + done;
                long chunk = Math.min(length - done, PAGE_SIZE - (at & PAGE_OFFSET));
                Access exit = copyPage(at, buffer, done, chunk, write);
                if (exit != null) {
                    return exit;
                }
                done += chunk;
            }
            return write ? Access.STORED : new Access.Value(length);
        } finally {
            release(claimed);
        }
    }

    /** One page's part of a bulk copy; returns the exit, or null. */
    private Access copyPage(long gpa, MemorySegment buffer, long offset, long chunk, boolean write) {
        if (mode != IN_GUEST && !reenter()) {
            return lastExit;
        }
        long gfn = gpa >>> PAGE_SHIFT;
        int i = Tlb.slot(gfn);
        long host = (write ? tlb.writeTag[i] : tlb.readTag[i]) == gfn ? tlb.hostPage[i]
                : translateMiss(gpa & ~7L, write, buffer.get(ValueLayout.JAVA_LONG_UNALIGNED, offset));
        if (host == EXITED) {
            return lastExit;
        }
        if (host == EMULATED) {
            // Write-tracked: the first word was emulated; store the rest one word at a time.
            for (long o = 8; o < chunk; o += 8) {
                if (!store(gpa + o, buffer.get(ValueLayout.JAVA_LONG_UNALIGNED, offset + o))) {
                    return lastExit;
                }
            }
            return null;
        }
        long address = host + (gpa & PAGE_OFFSET);
        if (write) {
            MemorySegment.copy(buffer, offset, MEMORY, address, chunk);
        } else {
            MemorySegment.copy(MEMORY, address, buffer, offset, chunk);
        }
        return null;
    }

    private static void requireAligned(long gpa) {
        if ((gpa & 7) != 0) {
            throw new IllegalArgumentException("guest accesses are 8-byte aligned: gpa 0x" + Long.toHexString(gpa));
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Guest mode, requests and kicks

    /**
     * Back into guest mode after an exit, or out and in again after a kick. Returns false, with
     * {@code lastExit} set, if the vCPU may not enter (dirty ring full).
     */
    private boolean reenter() {
        if (mode == EXITING) {
            exitGuest();
        }
        return enterGuest();
    }

    /**
     * {@code vcpu_enter_guest}: publish IN_GUEST, then look for requests and kicks (the Dekker pair).
     * Returns false, with {@code lastExit} set and the vCPU outside guest mode, when a pending
     * {@link #REQ_DIRTY_RING_SOFT_FULL} finds the ring still soft-full ({@code KVM_EXIT_DIRTY_RING_FULL}).
     */
    private boolean enterGuest() {
        for (;;) {
            if ((requests & REQ_DIRTY_RING_SOFT_FULL) != 0 && dirtyRingStillFull()) {
                lastExit = Access.RING_FULL;
                return false;
            }
            MODE.setVolatile(this, IN_GUEST);
            if (requests == 0 && mode == IN_GUEST) {
                return true;
            }
            exitGuest();
        }
    }

    /**
     * {@code kvm_dirty_ring_check_request}: consumes the soft-full request, and raises it again if the ring
     * has not been reset below its soft limit meanwhile.
     */
    private boolean dirtyRingStillFull() {
        REQUESTS.getAndBitwiseAnd(this, ~REQ_DIRTY_RING_SOFT_FULL);
        if (dirtyRingFull != null && dirtyRingFull.getAsBoolean()) {
            REQUESTS.getAndBitwiseOr(this, REQ_DIRTY_RING_SOFT_FULL);
            return true;
        }
        return false;
    }

    /** Leave guest mode: OUTSIDE, service requests, then tell waiting flushers. */
    private void exitGuest() {
        MODE.setVolatile(this, OUTSIDE);
        counters.countExit();
        if ((requests & REQ_TLB_FLUSH) != 0) {
            // Clear first: a request made after this point stays pending for the next entry.
            REQUESTS.getAndBitwiseAnd(this, ~REQ_TLB_FLUSH);
            tlb.flush();
            psc.flush();
            counters.countTlbFlush();
        }
        exitEpoch = exitEpoch + 1;
    }

    /**
     * The requester's half ({@code kvm_make_vcpu_request} + {@code kvm_request_needs_ipi}): sets
     * {@code request}, then kicks the vCPU out of guest mode. Returns the exit epoch to wait past, or -1
     * if there is nothing to wait for (the vCPU is outside guest mode, or it is the caller's own vCPU,
     * which cannot run guest code while its thread is in here).
     */
    long requestAndKick(long request) {
        REQUESTS.getAndBitwiseOr(this, request);
        long epoch = exitEpoch;
        int was = (int) MODE.compareAndExchange(this, IN_GUEST, EXITING);
        if (was == OUTSIDE || DRIVER.getVolatile(this) == Thread.currentThread()) {
            return -1;
        }
        return epoch;
    }

    /** Waits until the vCPU has left guest mode after {@code epoch} (the IPI's wait). */
    void awaitExit(long epoch) {
        Backoff backoff = new Backoff();
        while (exitEpoch == epoch) {
            backoff.pause();
        }
    }

    /**
     * Called by the dirty ring of this vCPU, on this vCPU's thread, when a push made it soft-full
     * ({@code kvm_make_request(KVM_REQ_DIRTY_RING_SOFT_FULL)}): from the next guest entry on, the access
     * exits with {@link Access.RingFull} until {@code stillFull} turns false (the ring was reset).
     */
    public void requestDirtyRingExit(BooleanSupplier stillFull) {
        dirtyRingFull = stillFull;
        REQUESTS.getAndBitwiseOr(this, REQ_DIRTY_RING_SOFT_FULL);
    }

    /** Whether the calling thread is the one running this vCPU ({@code kvm_get_running_vcpu() == this}). */
    public boolean drivenByCurrentThread() {
        return DRIVER.getVolatile(this) == Thread.currentThread();
    }

    private boolean claim() {
        Thread me = Thread.currentThread();
        if (DRIVER.getVolatile(this) == me) {
            return false; // nested: an access from inside this vCPU's own guest code
        }
        if (!DRIVER.compareAndSet(this, null, me)) {
            throw new IllegalStateException("vCPU " + id + " is already driven by another thread");
        }
        return true;
    }

    private void release(boolean claimed) {
        if (claimed) {
            if (mode != OUTSIDE) {
                exitGuest();
            }
            DRIVER.setVolatile(this, null);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Diagnostics (tests): racy reads of the owner's state

    /** Whether a TLB entry names a host page in {@code [start, end)} ({@code writableOnly}: a writable one). */
    public boolean tlbMapsHostRange(long start, long end, boolean writableOnly) {
        return tlb.mapsHostRange(start, end, writableOnly);
    }

    /** Whether the TLB holds a writable entry that came from a huge leaf (invariant I4). */
    public boolean tlbHasWritableHuge() {
        return tlb.hasWritableHuge();
    }

    /** Whether a TLB flush was requested and not yet performed (the TLB is then unusable). */
    public boolean flushPending() {
        return (requests & REQ_TLB_FLUSH) != 0;
    }

    /** Whether the vCPU is in guest mode (or being kicked out of it). */
    public boolean inGuestMode() {
        return mode != OUTSIDE;
    }

    /** The live counters. */
    VcpuCounters counters() {
        return counters;
    }

    /** The {@link Guest} guest code of this vCPU uses. */
    private final class InGuest implements Guest {
        @Override
        public int vcpuId() {
            return id;
        }

        @Override
        public long read64(long gpa) {
            return load(gpa);
        }

        @Override
        public boolean write64(long gpa, long value) {
            return store(gpa, value);
        }

        @Override
        public Access lastExit() {
            return lastExit;
        }

        @Override
        public void idle(Runnable action) {
            if (mode != OUTSIDE) {
                exitGuest();
            }
            action.run();
        }
    }
}
