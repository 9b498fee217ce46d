package dev.guestmem.mmu;

import static dev.guestmem.mmu.PageLevel.PG_2M;
import static dev.guestmem.mmu.PageLevel.PG_4K;

import dev.guestmem.memslot.Memslot;
import dev.guestmem.sync.Rcu;

/**
 * The TDP MMU of one VM (mmu.md §2, §3, §6): a single root, the SPTE update primitives and the
 * bookkeeping every change goes through ({@code handle_changed_spte}), and the tree operations built on
 * them — installing a fault's leaf, zapping, the two kinds of write protection, aging and huge-page
 * recovery.
 *
 * <h2>Rules every operation follows</h2>
 * <ul>
 *   <li>Every walk runs inside an {@link Rcu} read section; a table is unlinked (DETACHED), the vCPUs are
 *       flushed, and only then, after the section ends and a grace period passes, is it FREED
 *       ({@link #reclaim()}). Hardware walkers are not RCU readers; the flush is what waits for them.</li>
 *   <li>Read-lock writers change SPTEs only with CAS and retry or give up when they lose; write-lock
 *       writers use exchange or atomic bit clears on present leaves, so a bit set concurrently by the fast
 *       path or a hardware A/D assist reaches the bookkeeping.</li>
 *   <li>A present leaf never turns into a leaf with another PFN; removing a translation is followed by a
 *       remote flush before the lock (or, under the read lock, the FROZEN entry) is released.</li>
 * </ul>
 */
public final class TdpMmu {
    private final TablePool pool = new TablePool();
    private final Rcu rcu = new Rcu();
    private final MmuLock lock = new MmuLock();
    private final MmuInvariants invariants = new MmuInvariants();
    private final InvalidationWindow window = new InvalidationWindow(invariants);
    private final VmCounters counters = new VmCounters();
    private final WriteTracking tracking = new WriteTracking();
    private final MmuOptions options;
    private final Interleaver interleaver;
    private final PageTable root;
    private volatile TlbFlusher flusher = TlbFlusher.NONE;
    private volatile DirtyTracker dirty = DirtyTracker.NONE;
    /** Set under the write lock when the VM is destroyed; faults check it under the read lock. */
    private volatile boolean dead;
    /** Low bits of the memslot generation at the last update (MMIO generation wrap detection). */
    private long lastMmioGeneration;

    public TdpMmu(MmuOptions options) {
        this.options = options;
        this.interleaver = options.interleaver();
        this.root = pool.allocate(PageLevel.ROOT, 0);
    }

    // ---------------------------------------------------------------------------------------------
    // Wiring and observation

    /** Who flushes the vCPUs' TLBs; set once the vCPU set exists. */
    public void setTlbFlusher(TlbFlusher value) {
        flusher = value;
    }

    /** Where writable mappings in logging slots are reported (the dirty-logging layer). */
    public void setDirtyTracker(DirtyTracker value) {
        dirty = value;
    }

    DirtyTracker dirtyTracker() {
        return dirty;
    }

    /** The root table: what every vCPU's hardware walk starts from (its EPTP). */
    public PageTable root() {
        return root;
    }

    /** The child table a present non-leaf SPTE links; for walkers, inside their protection. */
    public PageTable childTable(long nonLeafSpte) {
        return pool.lookup(Spte.pfn(nonLeafSpte));
    }

    public MmuLock lock() {
        return lock;
    }

    public InvalidationWindow window() {
        return window;
    }

    public VmCounters counters() {
        return counters;
    }

    /** Invariant violations seen so far (must stay empty). */
    public MmuInvariants invariants() {
        return invariants;
    }

    public MmuOptions options() {
        return options;
    }

    Interleaver interleaver() {
        return interleaver;
    }

    Rcu rcu() {
        return rcu;
    }

    WriteTracking tracking() {
        return tracking;
    }

    boolean isDead() {
        return dead;
    }

    /**
     * Page tables linked into the tree: a zapped table stops counting when it is unlinked, as the kernel
     * unaccounts it then, though it is freed only after a grace period.
     */
    public long liveTables() {
        return pool.liveTables();
    }

    /** {@code kvm_flush_remote_tlbs}. */
    public void flushRemoteTlbs() {
        flusher.flushRemoteTlbs();
    }

    /**
     * Frees the tables retired so far, after a grace period, once enough of them wait ({@link Rcu#BATCH}).
     * Call without the MMU lock and outside any RCU read section.
     */
    public void reclaim() {
        rcu.reclaim();
    }

    // ---------------------------------------------------------------------------------------------
    // Bookkeeping

    /**
     * {@code handle_changed_spte}: statistics, the static invariants of the new value, the PFN-stability
     * rule, and the teardown of a table whose link was removed.
     */
    void handleChanged(long gfn, long oldSpte, long newSpte, int level, boolean shared) {
        if (oldSpte == newSpte) {
            return;
        }
        String bad = Spte.violation(newSpte, level);
        if (bad != null) {
            invariants.record("I1 at gfn 0x" + Long.toHexString(gfn) + " level " + level + ": " + bad);
        }
        boolean wasLeaf = Spte.isPresentLeaf(oldSpte, level);
        boolean isLeaf = Spte.isPresentLeaf(newSpte, level);
        if (wasLeaf && isLeaf) {
            if (Spte.pfn(oldSpte) != Spte.pfn(newSpte)) {
                invariants.record("I5: present leaf at gfn 0x" + Long.toHexString(gfn) + " changed PFN 0x"
                        + Long.toHexString(Spte.pfn(oldSpte)) + " -> 0x" + Long.toHexString(Spte.pfn(newSpte)));
            }
            if (Spte.isHostWritable(oldSpte) != Spte.isHostWritable(newSpte)) {
                invariants.record("I1: Host-writable changed on a present SPTE at gfn 0x" + Long.toHexString(gfn));
            }
        } else if (wasLeaf != isLeaf) {
            counters.countLeaves(level, isLeaf ? 1 : -1);
        }
        boolean wasTable = Spte.isPresent(oldSpte) && !wasLeaf;
        boolean isTable = Spte.isPresent(newSpte) && !isLeaf;
        if (wasTable && isTable) {
            invariants.record("a non-leaf SPTE was relinked at gfn 0x" + Long.toHexString(gfn));
        } else if (wasTable) {
            handleRemovedTable(pool.lookup(Spte.pfn(oldSpte)), shared);
        }
    }

    /**
     * {@code handle_removed_pt} (mmu.md §6.3): the table is unreachable from the tree but maybe not from
     * TLBs and paging-structure caches, through which A/D assists may still change its entries; so each
     * entry is taken with an exchange to FROZEN (waiting out another thread's freeze of that entry), its
     * old value goes through the bookkeeping, and the table is freed after a grace period. The caller
     * flushes before its RCU section ends.
     *
     * <p>Under the write lock ({@code !shared}) a non-present entry is skipped (mmu.md §6.3, exclusive):
     * only faults install into one, and they are locked out, while A/D assists and the fast path change
     * present entries only. That spares a zap of a mostly empty table 512 atomic exchanges.
     */
    private void handleRemovedTable(PageTable table, boolean shared) {
        pool.retire(table);
        counters.countTableRemoved();
        int childLevel = table.level();
        for (int i = nextToFreeze(table, 0, shared); i < PageLevel.ENTRIES; i = nextToFreeze(table, i + 1, shared)) {
            long old;
            while ((old = table.xchg(i, Spte.FROZEN)) == Spte.FROZEN) {
                Thread.onSpinWait();
            }
            handleChanged(table.gfnAt(i), old, Spte.FROZEN, childLevel, shared);
        }
        rcu.callRcu(() -> pool.free(table));
    }

    /** The next entry from {@code from} a teardown takes: any when {@code shared}, else the next present one. */
    private static int nextToFreeze(PageTable table, int from, boolean shared) {
        return shared ? from : table.nextPresent(from);
    }

    // ---------------------------------------------------------------------------------------------
    // Faults

    /**
     * {@code kvm_tdp_mmu_map}: walks toward the fault's gfn, links missing tables (splitting a huge leaf
     * in the way) and installs the leaf at the goal level. Called by {@link FaultHandler} with the read
     * lock held and the staleness check passed.
     */
    FaultResult map(PageFault f) {
        int token = rcu.readLock();
        try {
            PageTable table = root;
            for (int level = PageLevel.ROOT; ; level--) {
                int index = PageLevel.index(f.gfn, level);
                long old = table.get(index);
                if (old == Spte.FROZEN && !options.has(MmuMutation.IGNORE_FROZEN)) {
                    return FaultResult.RETRY;
                }
                if (level == f.goalLevel) {
                    return installLeaf(f, table, index, level, old);
                }
                if (Spte.isPresent(old) && !Spte.isLeaf(old, level)) {
                    table = pool.lookup(Spte.pfn(old));
                    continue;
                }
                table = linkChild(table, index, level, old);
                if (table == null) {
                    return FaultResult.RETRY;
                }
            }
        } finally {
            rcu.readUnlock(token);
        }
    }

    /**
     * Links a new table under entry {@code index} of {@code parent}: empty ({@code tdp_mmu_link_sp}), or
     * filled with the 512 pieces of the huge leaf {@code old} ({@code tdp_mmu_split_huge_page}, no flush:
     * the translation is the same). The child is complete before the CAS publishes it. Returns null when
     * the CAS lost; the child was never visible and is freed at once.
     */
    private PageTable linkChild(PageTable parent, int index, int level, long old) {
        long base = parent.gfnAt(index);
        PageTable child = pool.allocate(level - 1, base);
        boolean split = Spte.isPresentLeaf(old, level);
        if (split) {
            for (int i = 0; i < PageLevel.ENTRIES; i++) {
                child.store(i, Spte.makeSmall(old, level - 1, i));
            }
        }
        long link = Spte.makeNonLeaf(child.handle());
        if (parent.cas(index, old, link) != old) {
            pool.free(child);
            return null;
        }
        handleChanged(base, old, link, level, true);
        if (split) {
            counters.countLeaves(level - 1, PageLevel.ENTRIES);
        }
        return child;
    }

    /** {@code tdp_mmu_map_handle_target_level}. */
    private FaultResult installLeaf(PageFault f, PageTable table, int index, int level, long old) {
        if (Spte.isPresentLeaf(old, level) && Spte.allows(old, f.write)) {
            // Another vCPU's fault got here first (≥ 6.11: spurious if the access is already allowed). Never
            // overwrite it with what this fault resolved earlier: a read fault's zero page must not replace
            // a writable leaf a racing write fault installed, nor may a fault that found no slot (the slot
            // was re-created meanwhile) replace the leaf a fault in the new memslot set installed.
            return FaultResult.SPURIOUS;
        }
        long newSpte = f.slot == null ? Spte.makeMmio(f.gfn, f.generation) : makeSpte(f, level);
        if (newSpte == old) {
            return FaultResult.SPURIOUS;
        }
        if (f.slot != null && Spte.isPresentLeaf(old, level) && Spte.pfn(old) != Spte.pfn(newSpte)) {
            // A translation may change only through non-present plus a flush: a bug upstream of here.
            invariants.record("I5: fault would replace a present leaf at gfn 0x" + Long.toHexString(f.gfn)
                    + " by another PFN");
            return FaultResult.RETRY;
        }
        interleaver.point("fault.beforeInstall");
        long base = table.gfnAt(index);
        if (Spte.isPresentLeaf(old, level) && !Spte.isHostWritable(old) && Spte.isHostWritable(newSpte)) {
            // The host page became writable under a present read-only leaf: the zero page was replaced by
            // a private copy (CoW). That is a new frame to the kernel, so the old translation goes away
            // (non-present plus flush) before the new one appears; Host-writable never flips in place.
            if (!replaceFrame(table, index, level, base, old, newSpte)) {
                return FaultResult.RETRY;
            }
        } else {
            if (table.cas(index, old, newSpte) != old) {
                return FaultResult.RETRY;
            }
            handleChanged(base, old, newSpte, level, true);
        }
        if (Spte.isPresent(old) && !Spte.isLeaf(old, level)) {
            // A huge leaf replaced a table: vCPUs may still walk the old one (kvm_flush_remote_tlbs_gfn),
            // and it may be freed only after this flush; we are still inside the RCU section.
            flushRemoteTlbs();
        } else if (Spte.leafChangeNeedsFlush(old, newSpte)) {
            // ≥ 6.13: a fault must never clear MMU-writable; WARN and flush.
            invariants.record("a fault cleared MMU-writable at gfn 0x" + Long.toHexString(f.gfn) + " (0x"
                    + Long.toHexString(old) + " -> 0x" + Long.toHexString(newSpte) + ", " + (f.write ? "write" : "read")
                    + " fault)");
            flushRemoteTlbs();
        } else if (f.slot == null && Spte.isPresentLeaf(old, level)) {
            // A fault that found no slot replaced a read-only leaf with an MMIO SPTE. The kernel does not
            // flush: the old frame was the shared zero page, which never goes away. Here a frame is its hva,
            // which the host may unmap next, so no TLB may keep the old translation.
            flushRemoteTlbs();
        }
        if (f.slot == null) {
            return FaultResult.MMIO_SPTE;
        }
        options.installObserver().installed(f.gfn, f.hva, Spte.isWritable(newSpte), f.mmuSeq);
        return f.write && !Spte.isWritable(newSpte) ? FaultResult.WRITE_PROTECTED : FaultResult.FIXED;
    }

    /**
     * Replaces the present leaf {@code old} by {@code newSpte} of another frame under the read lock: freeze,
     * flush while FROZEN, publish. Returns false if the entry changed before the freeze.
     */
    private boolean replaceFrame(PageTable table, int index, int level, long gfn, long old, long newSpte) {
        if (table.cas(index, old, Spte.FROZEN) != old) {
            return false;
        }
        flushRemoteTlbs();
        long frozen = table.xchg(index, newSpte);
        if (frozen != Spte.FROZEN) {
            invariants.record("I8: FROZEN SPTE at gfn 0x" + Long.toHexString(gfn) + " was overwritten");
        }
        handleChanged(gfn, old, Spte.NONPRESENT, level, true);
        handleChanged(gfn, Spte.NONPRESENT, newSpte, level, true);
        return true;
    }

    /**
     * {@code make_spte}: writable iff the host page is writable and no tracker protects the gfn; a writable
     * SPTE in a logging slot marks the gfn dirty right here, as the kernel does.
     */
    private long makeSpte(PageFault f, int level) {
        boolean writable = f.hostWritable && !tracking.isTracked(f.gfn);
        long spte = Spte.makeLeaf(f.pfn, level, f.hostWritable, writable);
        if (writable && f.slot.logsDirtyPages()) {
            if (level > PG_4K) {
                invariants.record("writable huge SPTE in a logging slot at gfn 0x" + Long.toHexString(f.gfn));
            }
            dirty.markPageDirty(f.slot, f.gfn);
        }
        return spte;
    }

    // ---------------------------------------------------------------------------------------------
    // Zapping

    /**
     * {@code kvm_tdp_mmu_zap_leafs} with the write lock held: every present leaf intersecting
     * {@code [start, end)} becomes non-present (by exchange, so a concurrent A/D update is seen). With
     * {@code mayYield}, the walk releases the lock when someone waits for it, after first doing the
     * pending flush (a835429cda91: a thread that takes the lock and sees the SPTEs gone must be able to
     * trust that no TLB still maps them). Returns whether a flush is still owed.
     */
    boolean zapLeafsLocked(long start, long end, boolean mayYield, boolean flush) {
        int token = rcu.readLock();
        try {
            TdpIter it = new TdpIter(pool, root, start, end, PG_4K);
            long yieldedAt = -1;
            while (it.valid()) {
                if (mayYield && it.target() != yieldedAt
                        && (lock.contended() || interleaver.forceYield("zap", it.gfn()))) {
                    if (flush && !options.has(MmuMutation.NO_FLUSH_BEFORE_YIELD)) {
                        flushRemoteTlbs();
                        flush = false;
                    }
                    rcu.readUnlock(token);
                    lock.writeUnlock();
                    try {
                        interleaver.point("zap.yielded");
                    } finally {
                        lock.writeLock();
                        token = rcu.readLock();
                    }
                    yieldedAt = it.target();
                    it.restart();
                    continue;
                }
                long old = it.old();
                if (Spte.isPresentLeaf(old, it.level())) {
                    long actual = it.table().xchg(it.index(), Spte.NONPRESENT);
                    handleChanged(it.gfn(), actual, Spte.NONPRESENT, it.level(), false);
                    it.setOld(Spte.NONPRESENT);
                    flush = true;
                }
                it.next();
            }
            return flush;
        } finally {
            rcu.readUnlock(token);
        }
    }

    /** {@code kvm_mmu_invalidate_begin}; the MMU lock must be held for write (a range walk's on_lock). */
    public void invalidateBegin() {
        requireWriteLocked();
        window.begin();
    }

    /** {@code kvm_mmu_invalidate_end}: sequence first, then in-progress; MMU lock held for write. */
    public void invalidateEnd() {
        requireWriteLocked();
        window.end();
    }

    /**
     * {@code kvm_mmu_unmap_gfn_range} (MMU lock held for write, between {@link #invalidateBegin} and
     * {@link #invalidateEnd}): widens the invalidation window to {@code [start, end)} so no fault installs a
     * page of it, and zaps it. Returns whether the caller must flush before unlocking.
     */
    public boolean unmapGfnRange(long start, long end, boolean mayBlock) {
        requireWriteLocked();
        window.addRange(start, end);
        return zapLeafsLocked(start, end, mayBlock, false);
    }

    private void requireWriteLocked() {
        if (!lock.isWriteLockedByCurrentThread()) {
            throw new IllegalStateException("the MMU lock must be held for write");
        }
    }

    /**
     * {@code kvm_zap_gfn_range}: drops every translation of {@code [start, end)} as an invalidation of its
     * own (faults on the range retry meanwhile) and flushes before returning. The public zap for other
     * layers (e.g. memory attributes).
     */
    public void zapGfnRange(long start, long end) {
        lock.writeLock();
        try {
            window.begin();
            window.addRange(start, end);
            if (zapLeafsLocked(start, end, true, false)) {
                flushRemoteTlbs();
            }
            window.end();
        } finally {
            lock.writeUnlock();
        }
        reclaim();
    }

    /**
     * {@code kvm_mmu_zap_memslot} (the slot-only alternative to the fast zap of all roots, mmu.md §4.4):
     * drops every translation of {@code slot} and flushes before returning. Memslot DELETE and MOVE call it
     * while the slot's INVALID copy is published, so no fault can map the slot again meanwhile.
     */
    public void zapMemslot(Memslot slot) {
        lock.writeLock();
        try {
            if (zapLeafsLocked(slot.baseGfn(), slot.endGfn(), true, false)) {
                flushRemoteTlbs();
            }
        } finally {
            lock.writeUnlock();
        }
        reclaim();
    }

    /**
     * {@code tdp_mmu_zap_spte_atomic} with the read lock held: freeze the entry, flush the vCPUs while it
     * is FROZEN (every CAS writer and fault backs off meanwhile), publish non-present, then tear down what
     * the old value linked. Returns false if the entry changed before the freeze ({@code it} then holds
     * the fresh value).
     */
    private boolean zapSpteAtomic(TdpIter it) {
        long old = it.old();
        long witness = it.table().cas(it.index(), old, Spte.FROZEN);
        if (witness != old) {
            it.setOld(witness);
            return false;
        }
        interleaver.point("frozen.afterFreeze");
        flushRemoteTlbs();
        // Only the freezer may overwrite FROZEN; an exchange (not a plain store) lets I8 see a violation.
        long frozen = it.table().xchg(it.index(), Spte.NONPRESENT);
        if (frozen != Spte.FROZEN) {
            invariants.record("I8: FROZEN SPTE at gfn 0x" + Long.toHexString(it.gfn()) + " level " + it.level()
                    + " was overwritten by 0x" + Long.toHexString(frozen));
        }
        handleChanged(it.gfn(), old, Spte.NONPRESENT, it.level(), true);
        it.setOld(Spte.NONPRESENT);
        return true;
    }

    /**
     * Huge-page recovery as ≤ 6.12 does it ({@code kvm_mmu_zap_collapsible_sptes}, mmu.md §5.4): under the
     * read lock, zap with the freeze protocol every table at the 2 MiB level whose frame lies inside
     * {@code slot} and may be mapped huge, so the next fault maps it with one leaf. Returns the number of
     * tables zapped. Must not run while the slot logs dirty pages.
     */
    public int recoverHugePages(Memslot slot, HugePagePolicy policy) {
        int zapped = 0;
        lock.readLock();
        int token = rcu.readLock();
        try {
            TdpIter it = new TdpIter(pool, root, slot.baseGfn(), slot.endGfn(), PG_2M);
            while (it.valid()) {
                long old = it.old();
                if (it.level() == PG_2M && Spte.isPresent(old) && !Spte.isLeaf(old, PG_2M)
                        && policy.staticMaxLevel(slot, it.gfn()) >= PG_2M && policy.hostAllowsHuge(slot, it.gfn())) {
                    if (!zapSpteAtomic(it)) {
                        continue;
                    }
                    zapped++;
                    it.skipChildren();
                    continue;
                }
                it.next();
            }
        } finally {
            rcu.readUnlock(token);
            lock.readUnlock();
        }
        reclaim();
        return zapped;
    }

    /**
     * {@code kvm_mmu_invalidate_mmio_sptes} on a generation wrap (mmu.md §1.7): called after every memslot
     * publication with the new generation; when its low {@value Spte#MMIO_GEN_BITS} bits went backwards,
     * MMIO SPTEs of an old generation could match again, so all are dropped.
     */
    public void memslotsUpdated(long generation) {
        long low = generation & Spte.MMIO_GEN_MASK;
        boolean wrapped;
        synchronized (this) {
            wrapped = low < lastMmioGeneration;
            lastMmioGeneration = low;
        }
        if (wrapped) {
            zapAllMmio();
        }
    }

    private void zapAllMmio() {
        lock.writeLock();
        int token = rcu.readLock();
        try {
            TdpIter it = new TdpIter(pool, root, 0, -1L, PG_4K);
            while (it.valid()) {
                if (Spte.isMmio(it.old())) {
                    // No lockless writer touches MMIO SPTEs, and faults are excluded by the write lock.
                    it.table().store(it.index(), Spte.NONPRESENT);
                    it.setOld(Spte.NONPRESENT);
                }
                it.next();
            }
        } finally {
            rcu.readUnlock(token);
            lock.writeUnlock();
        }
    }

    /**
     * VM teardown ({@code kvm_mmu_notifier_release} / {@code kvm_tdp_mmu_zap_all}): marks the MMU dead so
     * no fault installs anything any more, unlinks every table, flushes, and frees them after a grace
     * period.
     */
    public void destroy() {
        zapAll(true);
        rcu.barrier();
    }

    /**
     * {@code kvm_mmu_zap_all_fast} as the TDP MMU's effect of it: with the write lock held, unlink every
     * table below the root (leaves and MMIO SPTEs with them), flush, and free the tables after a grace
     * period. The root itself stays: vCPUs walk it from their next entry, which the flush makes them do
     * with empty caches, as they would a fresh root.
     */
    public void zapAll() {
        zapAll(false);
    }

    private void zapAll(boolean kill) {
        lock.writeLock();
        int token = rcu.readLock();
        try {
            if (kill) {
                dead = true;
            }
            boolean any = false;
            // Under the write lock an entry in use is a table link, a huge leaf or an MMIO SPTE.
            for (int i = root.nextInUse(0); i < PageLevel.ENTRIES; i = root.nextInUse(i + 1)) {
                long actual = root.xchg(i, Spte.NONPRESENT);
                handleChanged(root.gfnAt(i), actual, Spte.NONPRESENT, PageLevel.ROOT, false);
                any = true;
            }
            if (any) {
                flushRemoteTlbs();
            }
        } finally {
            rcu.readUnlock(token);
            lock.writeUnlock();
        }
        reclaim();
    }

    // ---------------------------------------------------------------------------------------------
    // Write protection (mmu.md §3)

    /**
     * Kind A ({@code kvm_tdp_mmu_write_protect_gfn} + flush, for write tracking): clears W <em>and</em>
     * MMU-writable on every leaf covering {@code gfn}, and flushes before the write lock is released if any
     * old leaf was MMU-writable — even one whose W was already clear, because a dirty-log protection may
     * have cleared W and still owe its flush (INV-A; the 2012 race). Afterwards no vCPU can write
     * {@code gfn} without a fault until a fault makes it writable again.
     *
     * @return whether it flushed
     */
    public boolean writeProtectGfn(long gfn) {
        lock.writeLock();
        try {
            return writeProtectGfnLocked(gfn);
        } finally {
            lock.writeUnlock();
        }
    }

    private boolean writeProtectGfnLocked(long gfn) {
        boolean flush = false;
        int token = rcu.readLock();
        try {
            TdpIter it = new TdpIter(pool, root, gfn, gfn + 1, PG_4K);
            for (; it.valid(); it.next()) {
                long old = it.old();
                if (!Spte.isPresentLeaf(old, it.level())) {
                    continue;
                }
                long protect = Spte.W | Spte.MMU_WRITABLE;
                if ((old & protect) == 0) {
                    continue;
                }
                long actual = it.table().clearBits(it.index(), protect);
                long now = actual & ~protect;
                handleChanged(it.gfn(), actual, now, it.level(), false);
                it.setOld(now);
                flush |= options.has(MmuMutation.FLUSH_DECIDED_FROM_W)
                        ? Spte.isWritable(actual)
                        : Spte.leafChangeNeedsFlush(actual, now);
            }
            if (flush) {
                flushRemoteTlbs();
            }
            return flush;
        } finally {
            rcu.readUnlock(token);
        }
    }

    /**
     * {@code kvm_write_track_add_gfn}: from now on every guest write to {@code gfn} traps and is emulated;
     * no huge leaf may cover it. Write-protects (kind A) and flushes before returning.
     */
    public void trackWrites(long gfn) {
        lock.writeLock();
        try {
            tracking.add(gfn);
            writeProtectGfnLocked(gfn);
        } finally {
            lock.writeUnlock();
        }
    }

    /** {@code kvm_write_track_remove_gfn}: later faults may make {@code gfn} writable again. */
    public boolean untrackWrites(long gfn) {
        lock.writeLock();
        try {
            return tracking.remove(gfn);
        } finally {
            lock.writeUnlock();
        }
    }

    /**
     * Kind B, slot-wide ({@code kvm_tdp_mmu_wrprot_slot}, used when dirty logging is enabled): clears W
     * (never MMU-writable) on every leaf of {@code slot} at level {@code minLevel} or above, under the read
     * lock with CAS; huge leaves become read-only so the first write splits them. The caller must flush
     * remote TLBs after unlocking and before returning to userspace (this returns with the lock released;
     * ≥ 6.12 the enable path flushes unconditionally).
     *
     * @return whether any SPTE changed
     */
    public boolean writeProtectSlot(Memslot slot, int minLevel) {
        boolean changed = false;
        lock.readLock();
        int token = rcu.readLock();
        try {
            TdpIter it = new TdpIter(pool, root, slot.baseGfn(), slot.endGfn(), minLevel);
            while (it.valid()) {
                long old = it.old();
                if (!Spte.isPresentLeaf(old, it.level()) || !Spte.isWritable(old)) {
                    it.next();
                    continue;
                }
                long now = old & ~Spte.W;
                long witness = it.table().cas(it.index(), old, now);
                if (witness != old) {
                    it.setOld(witness); // lost to the fast path, an A/D assist or a fault: retry this entry
                    continue;
                }
                handleChanged(it.gfn(), old, now, it.level(), true);
                changed = true;
                it.setOld(now);
                it.next();
            }
        } finally {
            rcu.readUnlock(token);
            lock.readUnlock();
        }
        return changed;
    }

    /**
     * Kind B for a 64-gfn window ({@code kvm_arch_mmu_enable_log_dirty_pt_masked}, used by GET/CLEAR of the
     * dirty log and ring reset): with the write lock held, clears W (by atomic AND) on every leaf covering a
     * gfn {@code slot.baseGfn() + gfnOffset + i} whose bit {@code i} is set in {@code mask}; a huge leaf
     * becomes read-only, not dropped. The caller (holding the slots lock) flushes remote TLBs after
     * unlocking and before returning if it reaped any dirty bit.
     *
     * @return whether any SPTE changed
     */
    public boolean writeProtectMasked(Memslot slot, long gfnOffset, long mask) {
        boolean changed = false;
        lock.writeLock();
        int token = rcu.readLock();
        try {
            // One walk over the window from its first to its last set gfn (as the kernel walks the
            // 64-gfn window once), protecting every writable leaf that maps at least one set gfn.
            long window = slot.baseGfn() + gfnOffset;
            long first = window + Long.numberOfTrailingZeros(mask);
            long end = window + Long.SIZE - Long.numberOfLeadingZeros(mask);
            for (TdpIter it = new TdpIter(pool, root, first, end, PG_4K); it.valid(); it.next()) {
                long old = it.old();
                if (Spte.isPresentLeaf(old, it.level()) && Spte.isWritable(old)
                        && mapsMaskedGfn(it.gfn(), PageLevel.pages(it.level()), window, mask)) {
                    long actual = it.table().clearBits(it.index(), Spte.W);
                    handleChanged(it.gfn(), actual, actual & ~Spte.W, it.level(), false);
                    it.setOld(actual & ~Spte.W);
                    changed = true;
                }
            }
        } finally {
            rcu.readUnlock(token);
            lock.writeUnlock();
        }
        return changed;
    }

    /** Whether the leaf mapping {@code [leafGfn, leafGfn + pages)} maps a gfn whose bit is set in the window. */
    private static boolean mapsMaskedGfn(long leafGfn, long pages, long window, long mask) {
        long from = Math.max(leafGfn, window) - window;
        long to = Math.min(leafGfn + pages, window + Long.SIZE) - window;
        if (from >= to) {
            return false;
        }
        long range = to - from == Long.SIZE ? -1L : ((1L << (to - from)) - 1) << from;
        return (mask & range) != 0;
    }

    // ---------------------------------------------------------------------------------------------
    // Aging

    /**
     * {@code kvm_tdp_mmu_age_gfn_range}: clears Accessed on every present leaf of {@code [start, end)} with
     * an atomic AND (no flush: a stale TLB entry only makes the page look idle a little longer); with
     * {@code testOnly}, just reports. Returns whether any leaf was young.
     */
    public boolean ageGfnRange(long start, long end, boolean testOnly) {
        boolean young = false;
        int token = rcu.readLock();
        try {
            for (TdpIter it = new TdpIter(pool, root, start, end, PG_4K); it.valid(); it.next()) {
                long old = it.old();
                if (!Spte.isPresentLeaf(old, it.level()) || !Spte.isAccessed(old)) {
                    continue;
                }
                young = true;
                if (testOnly) {
                    break;
                }
                long actual = it.table().clearBits(it.index(), Spte.ACCESSED);
                it.setOld(actual & ~Spte.ACCESSED);
            }
        } finally {
            rcu.readUnlock(token);
        }
        return young;
    }

    /** Whether a present leaf maps a gfn of {@code [start, end)}; lockless, inside an RCU read section. */
    public boolean mapsAny(long start, long end) {
        int token = rcu.readLock();
        try {
            for (TdpIter it = new TdpIter(pool, root, start, end, PG_4K); it.valid(); it.next()) {
                if (Spte.isPresentLeaf(it.old(), it.level())) {
                    return true;
                }
            }
            return false;
        } finally {
            rcu.readUnlock(token);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Inspection (tests)

    /** Calls {@code visitor} for every present leaf and MMIO SPTE, under the read lock. */
    public void forEachLeaf(LeafVisitor visitor) {
        lock.readLock();
        int token = rcu.readLock();
        try {
            for (TdpIter it = new TdpIter(pool, root, 0, -1L, PG_4K); it.valid(); it.next()) {
                long spte = it.old();
                if (Spte.isPresentLeaf(spte, it.level()) || Spte.isMmio(spte)) {
                    visitor.leaf(it.gfn(), it.level(), spte);
                }
            }
        } finally {
            rcu.readUnlock(token);
            lock.readUnlock();
        }
    }

    /** What {@link #forEachLeaf} calls. */
    @FunctionalInterface
    public interface LeafVisitor {
        void leaf(long gfn, int level, long spte);
    }
}
