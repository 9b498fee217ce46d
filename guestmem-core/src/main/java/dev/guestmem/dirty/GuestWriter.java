package dev.guestmem.dirty;

import static dev.guestmem.memslot.KvmLimits.PAGE_SHIFT;
import static dev.guestmem.memslot.KvmLimits.PAGE_SIZE;

import dev.guestmem.Errno;
import dev.guestmem.host.HostFault;
import dev.guestmem.host.HostMemory;
import dev.guestmem.memslot.Memslot;
import dev.guestmem.memslot.MemslotStore;
import dev.guestmem.mmu.DirtyTracker;
import dev.guestmem.sync.Srcu;
import java.lang.foreign.MemorySegment;

/**
 * {@code kvm_write_guest} (KDL-07): a write the VMM side of KVM makes to guest memory on the guest's
 * behalf — by guest-physical address, through the memslots of address space 0 — page by page: look the
 * slot up inside an SRCU read section, refuse a missing, INVALID or read-only slot ({@code
 * KVM_HVA_ERR_BAD}: {@code EFAULT}), copy to the slot's host page, then {@code mark_page_dirty_in_slot}.
 * Pages before a failing one stay written, as with {@code copy_to_user}.
 *
 * <p>The copy goes through the host mapping like any host store, so the MMU's translations of the page stay
 * valid (the frame does not change); only the dirty mark tells dirty logging about it.
 */
public final class GuestWriter {
    private static final int AS_ID = 0;

    private final MemslotStore store;
    private final Srcu srcu;
    private final HostMemory host;
    private final DirtyTracker tracker;

    GuestWriter(MemslotStore store, Srcu srcu, HostMemory host, DirtyTracker tracker) {
        this.store = store;
        this.srcu = srcu;
        this.host = host;
        this.tracker = tracker;
    }

    /**
     * Writes {@code src} to guest memory at {@code gpa}.
     *
     * @return 0, or {@code EFAULT} at the first page that has no writable slot or whose host page refuses
     *         the write
     */
    public int write(long gpa, MemorySegment src) {
        long done = 0;
        long length = src.byteSize();
        while (done < length) {
            long at = gpa + done;
            long chunk = Math.min(length - done, PAGE_SIZE - (at & (PAGE_SIZE - 1)));
            if (!writePage(at, src.asSlice(done, chunk))) {
                return Errno.EFAULT;
            }
            done += chunk;
        }
        return 0;
    }

    /** {@code kvm_write_guest} of one 64-bit word (native byte order) at {@code gpa}: 0 or {@code EFAULT}. */
    public int write64(long gpa, long value) {
        MemorySegment word = MemorySegment.ofArray(new long[] {value});
        return write(gpa, word);
    }

    /** {@code kvm_write_guest_page}: one chunk that does not cross a page boundary. */
    private boolean writePage(long gpa, MemorySegment chunk) {
        long gfn = gpa >>> PAGE_SHIFT;
        int token = srcu.readLock();
        try {
            Memslot slot = store.active(AS_ID).lookup(gfn);
            if (slot == null || slot.isInvalid() || slot.isReadOnly()) {
                return false;
            }
            host.write(slot.gfnToHva(gfn) + (gpa & (PAGE_SIZE - 1)), chunk);
            tracker.markPageDirty(slot, gfn);
            return true;
        } catch (HostFault fault) {
            return false;
        } finally {
            srcu.readUnlock(token);
        }
    }
}
