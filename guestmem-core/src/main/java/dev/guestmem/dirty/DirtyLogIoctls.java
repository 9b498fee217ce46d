package dev.guestmem.dirty;

import dev.guestmem.Errno;
import dev.guestmem.memslot.KvmLimits;
import dev.guestmem.memslot.Memslot;
import dev.guestmem.memslot.MemslotStore;
import dev.guestmem.mmu.Interleaver;
import dev.guestmem.mmu.MmuLock;
import dev.guestmem.mmu.TdpMmu;
import java.util.Arrays;
import java.util.concurrent.locks.ReentrantLock;

/**
 * {@code KVM_GET_DIRTY_LOG}, {@code KVM_CLEAR_DIRTY_LOG} (spec §4.3, §4.4) and
 * {@code KVM_RESET_DIRTY_RINGS} (§4.6). Each runs entirely under the slots lock, which serializes them
 * with each other and with memslot updates: one reaping call can never return while another one's
 * deferred TLB flush is still owed (INV-B, mmu.md §3.3 point 4).
 *
 * <h2>Why no dirty page is lost</h2>
 * A bit is reaped (exchange or AND-NOT of its word) only under the MMU write lock and together with the
 * write protection of exactly its pages (kind B: W cleared, MMU-writable kept, so a later write takes the
 * fast path and logs again). The remote TLB flush then happens after the MMU lock is released but before
 * the call returns, even when the copy to userspace fails: a guest store that slips through a stale
 * writable TLB entry meanwhile hits a page that is already in the snapshot being returned, whose
 * contents userspace reads after the return; every store after the flush faults and is logged anew.
 * Schedule point {@code dirty-log.beforeFlush} sits between unlock and flush, for race tests.
 */
final class DirtyLogIoctls {
    private final DirtyLogCaps caps;
    private final DirtyRings rings;
    private final MemslotStore store;
    private final ReentrantLock slotsLock;
    private final TdpMmu mmu;
    private final Interleaver interleaver;

    DirtyLogIoctls(DirtyLogCaps caps, DirtyRings rings, MemslotStore store, ReentrantLock slotsLock, TdpMmu mmu) {
        this.caps = caps;
        this.rings = rings;
        this.store = store;
        this.slotsLock = slotsLock;
        this.mmu = mmu;
        this.interleaver = mmu.options().interleaver();
    }

    /**
     * {@code KVM_GET_DIRTY_LOG} of {@code slot} ({@code as_id << 16 | id}) into {@code out}, page {@code i}
     * being bit {@code i % 64} of word {@code i / 64}. The kernel copies {@code ALIGN(npages, 64) / 8}
     * bytes whatever the buffer; a shorter {@code out} receives the words that fit (as the KVM backend,
     * which hands the kernel a buffer of the slot's size), a longer one keeps its tail.
     *
     * @return 0, {@code ENXIO} (dirty rings without bitmaps), {@code EINVAL} (bad address space or id) or
     *         {@code ENOENT} (no such slot, or it does not log)
     */
    int get(int slot, long[] out) {
        slotsLock.lock();
        try {
            int err = check(slot);
            if (err != 0) {
                return err;
            }
            Memslot memslot = bitmapSlot(slot);
            if (memslot == null) {
                return Errno.ENOENT;
            }
            DirtyBitmap bitmap = memslot.dirtyBitmap();
            int count = Math.min(out.length, bitmap.words());
            if (caps.manualProtect()) {
                bitmap.copyLive(out, count); // as it is: no clearing, no protection, no flush
                return 0;
            }
            int[] taken = snapshotAndProtect(memslot, bitmap);
            try {
                interleaver.point("dirty-log.beforeFlush");
                if (taken.length > 0) {
                    mmu.flushRemoteTlbs(); // kvm_flush_remote_tlbs_memslot: before the copy-out and the return
                }
                bitmap.copyScratch(out, count, taken);
            } finally {
                for (int i : taken) {
                    bitmap.setScratch(i, 0); // leave the scratch half zeroed for the next user
                }
            }
            return 0;
        } finally {
            slotsLock.unlock();
        }
    }

    /**
     * The legacy-mode core of GET (spec §4.3 step 6): under the MMU write lock, every non-zero live word is
     * exchanged with 0 into the (zeroed) scratch half and exactly its pages are write-protected. Returns the
     * indexes of the words taken; if there is any, a flush is owed, whether or not an SPTE changed. The lock
     * is taken at the first non-zero word: a scan that finds none does nothing that needs it.
     */
    private int[] snapshotAndProtect(Memslot memslot, DirtyBitmap bitmap) {
        int words = bitmap.words();
        int i = bitmap.nextNonZeroLive(0);
        if (i == words) {
            return new int[0];
        }
        IntList taken = new IntList();
        MmuLock lock = mmu.lock();
        lock.writeLock();
        try {
            for (; i < words; i = bitmap.nextNonZeroLive(i + 1)) {
                long mask = bitmap.takeWord(i);
                if (mask == 0) {
                    continue;
                }
                bitmap.setScratch(i, mask);
                taken.add(i);
                mmu.writeProtectMasked(memslot, (long) i * DirtyBitmap.BITS_PER_WORD, mask);
            }
        } finally {
            lock.writeUnlock();
        }
        return taken.toArray();
    }

    /** A growable list of word indexes. */
    private static final class IntList {
        private int[] items = new int[16];
        private int size;

        void add(int value) {
            if (size == items.length) {
                items = Arrays.copyOf(items, 2 * size);
            }
            items[size++] = value;
        }

        int[] toArray() {
            return Arrays.copyOf(items, size);
        }
    }

    /**
     * {@code KVM_CLEAR_DIRTY_LOG}: clears, in the window of {@code numPages} (u32) pages from
     * {@code firstPage}, the bits set in {@code bitmap} (word 0 bit 0 is page {@code firstPage}) — only
     * those that were also set in the slot's bitmap — and write-protects exactly those pages.
     *
     * @return 0, {@code ENXIO}, {@code EINVAL} (bad address space or id, {@code firstPage} not a multiple
     *         of 64, a window outside the slot, or a length that is not a multiple of 64 and stops short of
     *         the slot's end), {@code ENOENT} or {@code EFAULT} ({@code bitmap} shorter than the window)
     */
    int clear(int slot, long firstPage, int numPages, long[] bitmap) {
        slotsLock.lock();
        try {
            int err = check(slot);
            if (err != 0) {
                return err;
            }
            if ((firstPage & (DirtyBitmap.BITS_PER_WORD - 1)) != 0) {
                return Errno.EINVAL; // step 3, before the slot lookup
            }
            Memslot memslot = bitmapSlot(slot);
            if (memslot == null) {
                return Errno.ENOENT;
            }
            long num = Integer.toUnsignedLong(numPages);
            long npages = memslot.npages();
            // Step 6, in the kernel's unsigned arithmetic: num may be unaligned only if it reaches the end.
            if (Long.compareUnsigned(firstPage, npages) > 0 || num > npages - firstPage
                    || (num < npages - firstPage && (num & (DirtyBitmap.BITS_PER_WORD - 1)) != 0)) {
                return Errno.EINVAL;
            }
            int words = (int) DirtyBitmap.wordsFor(num);
            if (bitmap.length < words) {
                return Errno.EFAULT; // copy_from_user of n bytes
            }
            DirtyBitmap dirty = memslot.dirtyBitmap();
            dirty.loadScratch(bitmap, 0, words);
            boolean flush;
            try {
                flush = clearAndProtect(memslot, dirty, (int) (firstPage >>> 6), words);
            } finally {
                dirty.clearScratch(0, words);
            }
            interleaver.point("dirty-log.beforeFlush");
            if (flush) {
                mmu.flushRemoteTlbs();
            }
            return 0;
        } finally {
            slotsLock.unlock();
        }
    }

    /** Step 9: "clear only what was collected", under the MMU write lock. Returns whether a flush is owed. */
    private boolean clearAndProtect(Memslot memslot, DirtyBitmap dirty, int firstWord, int words) {
        boolean flush = false;
        MmuLock lock = mmu.lock();
        lock.writeLock();
        try {
            for (int j = 0; j < words; j++) {
                long mask = dirty.scratch(j);
                if (mask == 0) {
                    continue;
                }
                int i = firstWord + j;
                long cleared = dirty.clearWord(i, mask);
                if (cleared != 0) {
                    mmu.writeProtectMasked(memslot, (long) i * DirtyBitmap.BITS_PER_WORD, cleared);
                    flush = true;
                }
            }
        } finally {
            lock.writeUnlock();
        }
        return flush;
    }

    /**
     * {@code KVM_RESET_DIRTY_RINGS}: frees the harvested entries of every ring in ring order,
     * write-protecting their pages in coalesced 64-page windows, then flushes if anything was freed.
     *
     * @return the number of entries freed, or {@code -EINVAL} without rings
     */
    int resetRings() {
        if (!caps.ringsEnabled()) {
            return -Errno.EINVAL;
        }
        slotsLock.lock();
        try {
            int freed = 0;
            for (DirtyRing ring : rings.all()) {
                ResetBatch batch = new ResetBatch(this::protectHarvested);
                freed += ring.reset(batch);
                batch.finish();
            }
            if (freed > 0) {
                mmu.flushRemoteTlbs();
            }
            return freed;
        } finally {
            slotsLock.unlock();
        }
    }

    /**
     * {@code kvm_reset_dirty_gfn}: re-enables dirty tracking for a coalesced window, silently skipping one
     * whose slot word or offset does not name pages of a current slot (userspace owns the ring contents).
     */
    private void protectHarvested(int slotWord, long offset, long mask) {
        int asId = slotWord >>> 16;
        int id = slotWord & 0xFFFF;
        if (asId >= store.addressSpaces() || id >= KvmLimits.USER_MEM_SLOTS) {
            return;
        }
        Memslot memslot = store.active(asId).byId(id);
        long last = offset + 63 - Long.numberOfLeadingZeros(mask);
        if (memslot == null || Long.compareUnsigned(last, memslot.npages()) >= 0
                || Long.compareUnsigned(offset, memslot.npages()) >= 0) {
            return;
        }
        mmu.lock().writeLock();
        try {
            mmu.writeProtectMasked(memslot, offset, mask);
        } finally {
            mmu.lock().writeUnlock();
        }
    }

    /** Steps 1 and 2 of GET and CLEAR: 0, {@code ENXIO} or {@code EINVAL}. */
    private int check(int slot) {
        if (!caps.useDirtyBitmap()) {
            return Errno.ENXIO;
        }
        int asId = slot >>> 16;
        int id = slot & 0xFFFF;
        if (asId >= store.addressSpaces() || id >= KvmLimits.USER_MEM_SLOTS) {
            return Errno.EINVAL;
        }
        return 0;
    }

    /** The slot of {@code slot} if it exists and has a bitmap (slots lock held: the writer's view). */
    private Memslot bitmapSlot(int slot) {
        Memslot memslot = store.active(slot >>> 16).byId(slot & 0xFFFF);
        return memslot == null || memslot.dirtyBitmap() == null ? null : memslot;
    }
}
