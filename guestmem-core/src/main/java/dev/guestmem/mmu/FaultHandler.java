package dev.guestmem.mmu;

import static dev.guestmem.memslot.KvmLimits.PAGE_SHIFT;

import dev.guestmem.gmem.GmemFault;
import dev.guestmem.gmem.GmemFaultSource;
import dev.guestmem.host.HostFault;
import dev.guestmem.host.HostMemory;
import dev.guestmem.host.HvaRange;
import dev.guestmem.memslot.KvmLimits;
import dev.guestmem.memslot.Memslot;
import dev.guestmem.memslot.MemslotFlags;
import dev.guestmem.memslot.MemslotSet;
import dev.guestmem.memslot.MemslotStore;
import dev.guestmem.memslot.VcpuSlotCache;
import dev.guestmem.sync.Srcu;

/**
 * {@code kvm_mmu_page_fault} for the TDP MMU (mmu.md §2): what a vCPU calls after an EPT violation or
 * misconfiguration, outside guest mode, on its own thread.
 *
 * <p>Order of the slow path (§2.2, kvm-memory-spec §3.5): inside the VM's SRCU read section, look the
 * slot up through the vCPU's cache and decide whether the access is private; a present write to a
 * write-tracked gfn is emulated; the lockless fast path; snapshot {@code mmu_invalidate_seq}; a
 * private/shared mismatch → memory-fault exit; INVALID slot → retry; the unsafe early check; guest_memfd routing ({@link GmemFaultSource}: a memory-fault exit,
 * a guest_memfd page, or the shared path); no slot → MMIO SPTE; a store to a read-only slot → MMIO
 * exit; GUP (EFAULT if the host refuses) and the mapping level; the unsafe check again; the MMU read
 * lock; the locked {@code mmu_invalidate_retry_gfn}; map.
 * The SRCU section lasts until the leaf is installed, so a memslot DELETE or MOVE, which waits for a
 * grace period after publishing the INVALID copy and only then zaps, never misses a leaf this fault
 * installs for the old slot.
 */
public final class FaultHandler {
    /** x86 vCPUs outside SMM use address space 0; the engine models no SMM entry. */
    private static final int AS_ID = 0;
    /** The fast path gives up after this many lost CAS races (§2.4). */
    private static final int FAST_PATH_RETRIES = 4;

    /** Why the vCPU exited. */
    public enum Kind {
        /** EPT violation on a non-present SPTE. */
        NOT_PRESENT,
        /** EPT violation on a present SPTE that does not allow the access. */
        PROTECTION,
        /** EPT misconfiguration: the walk ended at an MMIO SPTE. */
        MISCONFIG
    }

    private final TdpMmu mmu;
    private final MemslotStore store;
    private final Srcu srcu;
    private final HostMemory host;
    private final GmemFaultSource gmem;
    private final HugePagePolicy hugePages;
    private final Interleaver interleaver;
    private volatile CopyOnWriteListener copyOnWrite = CopyOnWriteListener.NONE;

    /**
     * @param gmem private/shared routing and guest_memfd pages, or null for a VM without guest_memfd
     */
    public FaultHandler(TdpMmu mmu, MemslotStore store, Srcu srcu, HostMemory host, GmemFaultSource gmem) {
        this.mmu = mmu;
        this.store = store;
        this.srcu = srcu;
        this.host = host;
        this.gmem = gmem;
        this.hugePages = new HugePagePolicy(host, mmu.tracking());
        this.interleaver = mmu.interleaver();
    }

    /** Who replays the MMU-notifier invalidation of a copy-on-write break a write fault caused. */
    public void setCopyOnWriteListener(CopyOnWriteListener listener) {
        copyOnWrite = listener;
    }

    /** The huge-page rules this handler maps with (for huge-page recovery). */
    public HugePagePolicy hugePages() {
        return hugePages;
    }

    /**
     * Handles one fault of the access at {@code gpa}.
     *
     * @param cache    the vCPU's last-used-slot cache
     * @param stats    the vCPU's counters
     * @param write    whether the access is a store
     * @param value    the value stored (for an emulated store)
     * @param kind     what the hardware walk found
     * @param mmioSpte the MMIO SPTE the walk ended at ({@link Kind#MISCONFIG} only)
     */
    public FaultOutcome handle(VcpuSlotCache cache, VcpuCounters stats, long gpa, boolean write, long value,
            Kind kind, long mmioSpte) {
        stats.countFault();
        long gfn = gpa >>> PAGE_SHIFT;
        if (Long.compareUnsigned(gfn, KvmLimits.MAX_GFN) > 0) {
            return FaultOutcome.MMIO_EXIT; // beyond the guest-physical width: no slot can hold it
        }
        FaultOutcome outcome;
        int token = srcu.readLock();
        try {
            outcome = handleLocked(cache, stats, gpa, gfn, write, value, kind, mmioSpte);
        } finally {
            srcu.readUnlock(token);
        }
        mmu.reclaim();
        return outcome;
    }

    private FaultOutcome handleLocked(VcpuSlotCache cache, VcpuCounters stats, long gpa, long gfn, boolean write,
            long value, Kind kind, long mmioSpte) {
        MemslotSet set = store.active(AS_ID);
        long generation = set.generation();
        if (kind == Kind.MISCONFIG && mmioSpteIsCurrent(mmioSpte, generation)) {
            stats.countEmulate();
            return FaultOutcome.MMIO_EXIT; // handle_mmio_page_fault: the cached answer is still right
        }
        Memslot slot = set.lookup(gfn, cache);
        boolean isPrivate = gmem != null && gmem.isPrivateAccess(gfn); // fault->is_private, fixed from here
        boolean present = kind == Kind.PROTECTION;
        if (present && write && slot != null && !slot.isInvalid() && mmu.tracking().isTracked(gfn)) {
            return emulateStore(stats, slot, gpa, value); // page_fault_handle_page_track
        }
        if (present && write && slot != null && !slot.isInvalid()) {
            FaultResult fast = fastPath(slot, gfn);
            if (fast != FaultResult.INVALID) {
                count(stats, fast, true);
                return FaultOutcome.RETRY_ACCESS;
            }
        }
        return slowPath(stats, slot, generation, gpa, gfn, write, value, isPrivate);
    }

    /** {@code check_mmio_spte}: trusted only outside a memslot update and with the current generation. */
    private static boolean mmioSpteIsCurrent(long spte, long generation) {
        return (generation & KvmLimits.GEN_UPDATE_IN_PROGRESS) == 0
                && Spte.mmioGeneration(spte) == (generation & Spte.MMIO_GEN_MASK);
    }

    private FaultOutcome slowPath(VcpuCounters stats, Memslot slot, long generation, long gpa, long gfn,
            boolean write, long value, boolean isPrivate) {
        InvalidationWindow window = mmu.window();
        long mmuSeq = window.seq();
        interleaver.point("fault.afterSeqSnapshot");
        // kvm_mmu_faultin_pfn's order (kvm-memory-spec §5.8): the private/shared mismatch, then an INVALID
        // slot, then the early invalidation check.
        if (gmem != null && gmem.privacyMismatch(gfn, isPrivate) instanceof GmemFault.MemoryFaultExit exit) {
            return memoryFault(exit);
        }
        if (slot != null && slot.isInvalid()) {
            // Being deleted or moved: retry rather than caching MMIO for a gfn that is still mapped.
            stats.countRetry();
            return FaultOutcome.RETRY_ACCESS;
        }
        if (window.retryGfnUnsafe(mmuSeq, gfn)) {
            stats.countRetry();
            return FaultOutcome.RETRY_ACCESS;
        }
        GmemFault routed = GmemFault.SHARED;
        if (gmem != null) {
            routed = gmem.faultin(slot, gfn, isPrivate);
            if (routed instanceof GmemFault.MemoryFaultExit exit) {
                return memoryFault(exit);
            }
        } else if (slot != null && (slot.flags() & MemslotFlags.GMEM_ONLY) != 0) {
            throw new IllegalStateException("a guest_memfd-only slot in a VM without guest_memfd support");
        }
        PageFault f = new PageFault(gfn, write, slot, generation, mmuSeq);
        if (routed instanceof GmemFault.Page page) {
            // kvm_gmem_get_pfn: the file's page, always writable, mapped at 4 KiB.
            f.hva = page.page().address();
            f.pfn = f.hva >>> PAGE_SHIFT;
            f.hostWritable = page.writable();
        } else if (slot != null && write && slot.isReadOnly()) {
            stats.countEmulate();
            return FaultOutcome.MMIO_EXIT; // KVM_PFN_ERR_RO_FAULT: emulated, which exits as MMIO
        } else if (slot != null) {
            // A write GUP of a page that still reads as the zero page breaks copy-on-write (see below).
            long hva = slot.gfnToHva(gfn);
            HvaRange broken = write && !host.isWrittenSinceDiscard(hva) ? host.firstWriteRange(hva) : null;
            try {
                hugePages.resolve(f);
            } catch (HostFault fault) {
                return FaultOutcome.EFAULT;
            }
            if (broken != null) {
                // The kernel's CoW fires the MMU notifiers here, dropping aliases' read-only SPTEs and moving
                // the sequence, so this fault retries below and maps the new page from scratch.
                copyOnWrite.copyOnWriteBroken(broken.start(), broken.end());
            }
            interleaver.point("fault.afterGup");
            if (window.retryGfnUnsafe(mmuSeq, gfn)) {
                stats.countRetry();
                return FaultOutcome.RETRY_ACCESS;
            }
        }
        interleaver.point("fault.beforeLock");
        FaultResult result;
        MmuLock lock = mmu.lock();
        lock.readLock();
        try {
            if (mmu.isDead()) {
                return FaultOutcome.EFAULT;
            }
            if (!mmu.options().has(MmuMutation.NO_INVALIDATION_RECHECK) && window.retryGfn(mmuSeq, gfn)) {
                result = FaultResult.RETRY; // is_page_fault_stale
            } else {
                result = mmu.map(f);
            }
        } finally {
            lock.readUnlock();
        }
        count(stats, result, false);
        return switch (result) {
            case RETRY, SPURIOUS, FIXED, INVALID -> FaultOutcome.RETRY_ACCESS;
            case MMIO_SPTE -> FaultOutcome.MMIO_EXIT;
            case WRITE_PROTECTED -> emulateStore(stats, slot, gpa, value);
        };
    }

    private static FaultOutcome memoryFault(GmemFault.MemoryFaultExit exit) {
        return exit.isPrivate() ? FaultOutcome.MEMORY_FAULT_PRIVATE : FaultOutcome.MEMORY_FAULT_SHARED;
    }

    /**
     * {@code fast_page_fault} (mmu.md §2.4): a write to a present leaf that is write-protected for dirty
     * logging only (MMU-writable set) is fixed with one CAS that sets W, without the MMU lock, and the gfn
     * is marked dirty. Never for a huge leaf of a logging slot: the fast path logs one gfn, a writable huge
     * leaf would let the guest dirty 511 others unseen (the reverted 2014 patch).
     */
    private FaultResult fastPath(Memslot slot, long gfn) {
        int token = mmu.rcu().readLock();
        try {
            for (int attempt = 0; ; attempt++) {
                PageTable table = mmu.root();
                int level = PageLevel.ROOT;
                long spte = table.get(PageLevel.index(gfn, level));
                while (Spte.isPresent(spte) && !Spte.isLeaf(spte, level)) {
                    table = mmu.childTable(spte);
                    level--;
                    spte = table.get(PageLevel.index(gfn, level));
                }
                if (!Spte.isPresent(spte)) {
                    return FaultResult.INVALID;
                }
                if (Spte.allows(spte, true)) {
                    return FaultResult.SPURIOUS;
                }
                if (!Spte.isMmuWritable(spte)) {
                    return FaultResult.INVALID;
                }
                if (level > PageLevel.PG_4K && slot.logsDirtyPages()
                        && !mmu.options().has(MmuMutation.FAST_PATH_FIXES_HUGE)) {
                    return FaultResult.INVALID;
                }
                long fixed = spte | Spte.W;
                if (table.cas(PageLevel.index(gfn, level), spte, fixed) == spte) {
                    // W went 0 -> 1: log it (D is left to the hardware, avoiding a flush, as KVM does).
                    if (slot.logsDirtyPages()) {
                        mmu.dirtyTracker().markPageDirty(slot, gfn);
                    }
                    return FaultResult.FIXED;
                }
                if (attempt == FAST_PATH_RETRIES) {
                    return FaultResult.INVALID;
                }
            }
        } finally {
            mmu.rcu().readUnlock(token);
        }
    }

    /** The emulator completing a store the MMU would not map writable ({@code kvm_write_guest} + dirty mark). */
    private FaultOutcome emulateStore(VcpuCounters stats, Memslot slot, long gpa, long value) {
        stats.countEmulate();
        long gfn = gpa >>> PAGE_SHIFT;
        try {
            host.write64(slot.gfnToHva(gfn) + (gpa & (KvmLimits.PAGE_SIZE - 1)), value);
        } catch (HostFault fault) {
            return FaultOutcome.EFAULT;
        }
        if (slot.logsDirtyPages()) {
            mmu.dirtyTracker().markPageDirty(slot, gfn);
        }
        return FaultOutcome.EMULATED;
    }

    private static void count(VcpuCounters stats, FaultResult result, boolean fast) {
        switch (result) {
            case FIXED -> {
                if (fast) {
                    stats.countFast();
                } else {
                    stats.countFixed();
                }
            }
            case SPURIOUS -> stats.countSpurious();
            case RETRY -> stats.countRetry();
            case MMIO_SPTE -> {
                stats.countMmioSpteCreated();
                stats.countEmulate();
            }
            case WRITE_PROTECTED, INVALID -> {
            }
        }
    }
}
