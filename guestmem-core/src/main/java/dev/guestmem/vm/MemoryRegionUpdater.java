package dev.guestmem.vm;

import static dev.guestmem.memslot.KvmLimits.MEM_MAX_NR_PAGES;
import static dev.guestmem.memslot.KvmLimits.MEM_SLOTS_NUM;
import static dev.guestmem.memslot.KvmLimits.PAGE_SHIFT;
import static dev.guestmem.memslot.KvmLimits.PAGE_SIZE;
import static dev.guestmem.memslot.KvmLimits.TASK_SIZE_MAX;
import static dev.guestmem.memslot.KvmLimits.USER_MEM_SLOTS;

import dev.guestmem.Errno;
import dev.guestmem.dirty.DirtyBitmapAllocator;
import dev.guestmem.gmem.GuestMemfd;
import dev.guestmem.memslot.GmemBinding;
import dev.guestmem.memslot.KvmLimits;
import dev.guestmem.memslot.Memslot;
import dev.guestmem.memslot.MemslotFlags;
import dev.guestmem.memslot.MemslotSet;
import dev.guestmem.memslot.MemslotStore;
import java.util.concurrent.locks.ReentrantLock;

/**
 * {@code KVM_SET_USER_MEMORY_REGION(2)}: every argument check of spec §1.1 in the kernel's order (the
 * first failing check decides the errno), the classification of §1.2, and the update flow of §2.6 over a
 * {@link MemslotStore}. One instance per VM; updates are serialized by the slots lock.
 */
final class MemoryRegionUpdater {
    private static final long PAGE_MASK = PAGE_SIZE - 1;
    /** The flags userspace owns; internal bits (INVALID, GMEM_ONLY) never take part in comparisons. */
    private static final int USER_FLAGS_MASK = 0xFFFF;

    private final Object vm;
    private final VmType type;
    private final MemslotStore store;
    private final FileTable files;
    private final MemslotUpdateHooks hooks;
    /** The dirty-bitmap decision of {@code kvm_prepare_memory_region} (spec §4.1); null: no bitmaps. */
    private final DirtyBitmapAllocator bitmaps;
    private final ReentrantLock slotsLock;
    /** {@code kvm->nr_memslot_pages}: pages over all slots of all address spaces (unsigned). */
    private long nrMemslotPages;

    /** An updater without dirty bitmaps, with a slots lock of its own. */
    MemoryRegionUpdater(Object vm, VmType type, MemslotStore store, FileTable files, MemslotUpdateHooks hooks) {
        this(vm, type, store, files, hooks, new ReentrantLock(), null);
    }

    /**
     * An updater serialized by {@code slotsLock} (which the VM's other slot-lock holders share) whose new
     * slots get dirty bitmaps from {@code bitmaps} (null: none).
     */
    MemoryRegionUpdater(Object vm, VmType type, MemslotStore store, FileTable files, MemslotUpdateHooks hooks,
            ReentrantLock slotsLock, DirtyBitmapAllocator bitmaps) {
        this.vm = vm;
        this.type = type;
        this.store = store;
        this.files = files;
        this.hooks = hooks;
        this.slotsLock = slotsLock;
        this.bitmaps = bitmaps;
    }

    /**
     * {@code kvm->slots_lock}: serializes memslot updates with the other operations that need the
     * memslots to stand still (memory-attribute updates, guest_memfd release).
     */
    ReentrantLock slotsLock() {
        return slotsLock;
    }

    /** Applies {@code r}; returns 0 or a Linux errno, leaving the memslots unchanged on error. */
    int apply(RegionRequest r) {
        // §1.1 step 2: v1 only knows LOG_DIRTY_PAGES and READONLY; this is what keeps GUEST_MEMFD v2-only.
        if (!r.v2() && (r.flags() & ~MemslotFlags.V1_FLAGS) != 0) {
            return Errno.EINVAL;
        }
        // Step 3: the id is checked before the lock, the address-space bits only later (step 11).
        if (r.id() >= USER_MEM_SLOTS) {
            return Errno.EINVAL;
        }
        slotsLock.lock();
        try {
            return applyLocked(r);
        } finally {
            slotsLock.unlock();
        }
    }

    private int applyLocked(RegionRequest r) {
        if (!flagsValid(r.flags())) {
            return Errno.EINVAL;
        }
        long size = r.memorySize();
        long gpa = r.guestPhysAddr();
        long hva = r.userspaceAddr();
        boolean gmem = (r.flags() & MemslotFlags.GUEST_MEMFD) != 0;
        if ((size & PAGE_MASK) != 0 || (gpa & PAGE_MASK) != 0) {
            return Errno.EINVAL;
        }
        if ((hva & PAGE_MASK) != 0 || !accessOk(hva, size)) {
            return Errno.EINVAL;
        }
        if (gmem && ((r.guestMemfdOffset() & PAGE_MASK) != 0 || wraps(r.guestMemfdOffset(), size))) {
            return Errno.EINVAL;
        }
        int asId = r.asId();
        int id = r.id();
        if (asId >= store.addressSpaces() || id >= MEM_SLOTS_NUM) {
            return Errno.EINVAL;
        }
        if (wraps(gpa, size)) {
            return Errno.EINVAL;
        }
        long npages = size >>> PAGE_SHIFT;
        if (id < USER_MEM_SLOTS && Long.compareUnsigned(npages, MEM_MAX_NR_PAGES) > 0) {
            return Errno.EINVAL;
        }
        // The writer is the only one changing the active set, so it may read it without SRCU.
        MemslotSet active = store.active(asId);
        Memslot old = active.byId(id);
        if (size == 0) {
            // Delete: the stale gpa, hva and gmem fields are ignored; a missing slot is EINVAL (§1.1 step 15).
            return old == null ? Errno.EINVAL : setMemslot(old, null, MemslotChange.DELETE);
        }
        long baseGfn = gpa >>> PAGE_SHIFT;
        MemslotChange change;
        if (old == null) {
            if (Long.compareUnsigned(nrMemslotPages + npages, nrMemslotPages) < 0) {
                return Errno.EINVAL;
            }
            change = MemslotChange.CREATE;
        } else {
            // §1.1 step 17: guest_memfd slots can only be deleted, and hva, size and read-only are fixed.
            if (gmem) {
                return Errno.EINVAL;
            }
            int toggled = (r.flags() ^ old.flags()) & (MemslotFlags.READONLY | MemslotFlags.GUEST_MEMFD);
            if (hva != old.userspaceAddr() || npages != old.npages() || toggled != 0) {
                return Errno.EINVAL;
            }
            boolean sameFlags = r.flags() == (old.flags() & USER_FLAGS_MASK);
            if (baseGfn == old.baseGfn()) {
                if (sameFlags) {
                    return 0;
                }
                change = MemslotChange.FLAGS_ONLY;
            } else {
                change = MemslotChange.MOVE;
            }
        }
        if (change == MemslotChange.CREATE || change == MemslotChange.MOVE) {
            // §1.1 step 18: gfn overlap within this address space only; hvas may alias freely.
            for (Memslot other : active.inGfnRange(baseGfn, baseGfn + npages)) {
                if (other.id() != id) {
                    return Errno.EEXIST;
                }
            }
        }
        if (!gmem) {
            Memslot next = new Memslot(asId, id, baseGfn, npages, r.flags(), hva, null);
            return setMemslot(old, next, change);
        }
        return createGmemSlot(r, asId, id, baseGfn, npages);
    }

    /** §1.1 steps 19-21 for a guest_memfd slot: bind (spec §5.4), update, unbind again on failure. */
    private int createGmemSlot(RegionRequest r, int asId, int id, long baseGfn, long npages) {
        Object file = files.get(r.guestMemfd());
        if (file == null) {
            return Errno.EBADF;
        }
        if (!(file instanceof GuestMemfd gmemFile) || gmemFile.owner() != vm) {
            return Errno.EINVAL;
        }
        int err = gmemFile.checkRange(r.guestMemfdOffset(), npages);
        if (err != 0) {
            return err;
        }
        int flags = r.flags() | (gmemFile.mmapAllowed() ? MemslotFlags.GMEM_ONLY : 0);
        GmemBinding binding = new GmemBinding(gmemFile, r.guestMemfdOffset() >>> PAGE_SHIFT);
        Memslot next = new Memslot(asId, id, baseGfn, npages, flags, r.userspaceAddr(), binding);
        err = gmemFile.bind(next);
        if (err != 0) {
            return err;
        }
        err = setMemslot(null, next, MemslotChange.CREATE);
        if (err != 0) {
            gmemFile.unbind(next);
        }
        return err;
    }

    /** {@code kvm_set_memslot} (spec §2.6): INVALID step, prepare, publish, commit. */
    private int setMemslot(Memslot old, Memslot planned, MemslotChange change) {
        Memslot next = planned;
        int asId = change == MemslotChange.CREATE ? next.asId() : old.asId();
        int id = change == MemslotChange.CREATE ? next.id() : old.id();
        if (change.needsInvalidStep()) {
            // Hide the slot from translations before zapping, so no vCPU can map it again meanwhile.
            store.install(asId, id, old.invalidCopy());
            hooks.invalidated(old);
        }
        if (bitmaps != null) {
            // kvm_prepare_memory_region: the generic bitmap decision comes before the arch hook; if that
            // fails, a bitmap allocated here goes away with the slot that was never published.
            next = bitmaps.prepare(old, next, change);
        }
        int err = archPrepare(old, next, change);
        if (err != 0) {
            if (change.needsInvalidStep()) {
                store.install(asId, id, old);
            }
            return err;
        }
        store.install(asId, id, next);
        commit(old, next, change);
        return 0;
    }

    /**
     * x86 {@code kvm_arch_prepare_memory_region} (spec §1.1 step 21, KMS-17): a CREATE or MOVE whose last
     * gfn is beyond what the MMU can map is EINVAL. It runs after the INVALID step, so a refused MOVE
     * still publishes twice and zaps the slot's mappings, as in the kernel. Then the hooks' own prepare.
     */
    private int archPrepare(Memslot old, Memslot next, MemslotChange change) {
        boolean placesSlot = change == MemslotChange.CREATE || change == MemslotChange.MOVE;
        if (placesSlot && Long.compareUnsigned(next.endGfn() - 1, KvmLimits.MAX_GFN) > 0) {
            return Errno.EINVAL;
        }
        return hooks.prepare(old, next, change);
    }

    /** {@code kvm_commit_memory_region} (spec §2.7). */
    private void commit(Memslot old, Memslot next, MemslotChange change) {
        if (change == MemslotChange.DELETE) {
            nrMemslotPages -= old.npages();
        } else if (change == MemslotChange.CREATE) {
            nrMemslotPages += next.npages();
        }
        hooks.commit(old, next, change);
        if (change == MemslotChange.DELETE && old.gmem() != null
                && old.gmem().file() instanceof GuestMemfd file) {
            file.unbind(old);
        }
    }

    /** {@code check_memory_region_flags} (§1.1 step 5); v6.18: GUEST_MEMFD is valid for every VM type. */
    private boolean flagsValid(int flags) {
        int valid = MemslotFlags.LOG_DIRTY_PAGES | MemslotFlags.GUEST_MEMFD;
        boolean gmem = (flags & MemslotFlags.GUEST_MEMFD) != 0;
        if (gmem) {
            valid &= ~MemslotFlags.LOG_DIRTY_PAGES;
        }
        if (type.supportsReadOnlyMemory() && !gmem) {
            valid |= MemslotFlags.READONLY;
        }
        return (flags & ~valid) == 0;
    }

    /**
     * x86-64 {@code access_ok(addr, size)} for a non-constant size: {@code addr + size} must neither wrap
     * nor pass the top of user space. An end exactly at {@code TASK_SIZE_MAX} is allowed (Linux 6.18
     * accepts a slot whose last page is the last user page; trace 08).
     */
    private static boolean accessOk(long addr, long size) {
        long sum = addr + size;
        return Long.compareUnsigned(sum, TASK_SIZE_MAX) <= 0 && Long.compareUnsigned(sum, addr) >= 0;
    }

    /** Whether {@code base + size} wraps around 2^64. */
    private static boolean wraps(long base, long size) {
        return Long.compareUnsigned(base + size, base) < 0;
    }
}
