package dev.guestmem.gmem;

import static dev.guestmem.memslot.KvmLimits.PAGE_SHIFT;
import static dev.guestmem.memslot.KvmLimits.PAGE_SIZE;

import dev.guestmem.Errno;
import dev.guestmem.host.SyscallException;
import dev.guestmem.memslot.GmemBinding;
import dev.guestmem.memslot.Memslot;
import dev.guestmem.memslot.MemslotFlags;

/**
 * The guest_memfd side of the fault path: routing of private and shared accesses
 * ({@code kvm_mmu_faultin_pfn}, spec §5.8) and {@code kvm_gmem_get_pfn} (§5.6). The MMU calls
 * {@link #faultin} after snapshotting its invalidation sequence and inside an SRCU read section of the
 * VM (which keeps the returned page valid, see {@link GuestMemfd#page}), and acts on the answer:
 * <ol>
 *   <li>an access whose privacy differs from the gfn's attribute exits with a memory fault;</li>
 *   <li>a private access, or any access to a gmem-only slot (v6.18, an {@code MMAP} guest_memfd), is
 *       served from the guest_memfd; a slot without guest_memfd, a closed file or a binding that is not
 *       this slot's exits with a memory fault (so does a private access with no slot at all);</li>
 *   <li>anything else takes the shared path through the hva.</li>
 * </ol>
 */
public final class GmemFaultSource {
    private final MemoryAttributes attributes;

    /** A source for the VM whose attributes are {@code attributes}. */
    public GmemFaultSource(MemoryAttributes attributes) {
        this.attributes = attributes;
    }

    /**
     * Whether an access to {@code gfn} is private ({@code fault->is_private}). Without encryption
     * hardware, as for {@code KVM_X86_SW_PROTECTED_VM}, that is the gfn's attribute at fault time; a VM
     * without private memory never has the attribute, so its accesses are all shared.
     */
    public boolean isPrivateAccess(long gfn) {
        return attributes.isPrivate(gfn);
    }

    /**
     * Decides how to serve an access to {@code gfn}.
     *
     * @param slot      the visible slot containing {@code gfn} (never an INVALID one: the MMU retries on
     *                  those), or {@code null} when none does
     * @param isPrivate whether the access is private ({@link #isPrivateAccess} when it was computed)
     */
    public GmemFault faultin(Memslot slot, long gfn, boolean isPrivate) {
        GmemFault mismatch = privacyMismatch(gfn, isPrivate);
        if (mismatch != null) {
            return mismatch;
        }
        if (slot == null) {
            // Private memory without a slot cannot become MMIO (PMX-01).
            return isPrivate ? exit(gfn, true, Errno.EFAULT) : GmemFault.SHARED;
        }
        if (!isPrivate && (slot.flags() & MemslotFlags.GMEM_ONLY) == 0) {
            return GmemFault.SHARED;
        }
        GmemBinding binding = slot.gmem();
        if (binding == null) {
            return exit(gfn, isPrivate, Errno.EFAULT); // PMX-02: private access, no guest_memfd
        }
        return getPfn(slot, binding, gfn, isPrivate);
    }

    /**
     * Step 1 of the routing, which the MMU runs right after its sequence snapshot and before it looks at
     * the slot: the memory-fault exit if the gfn's attribute no longer matches the access's privacy
     * (userspace must convert first), else null.
     */
    public GmemFault privacyMismatch(long gfn, boolean isPrivate) {
        return isPrivate != attributes.isPrivate(gfn) ? exit(gfn, isPrivate, Errno.EFAULT) : null;
    }

    /** {@code kvm_gmem_get_pfn} (spec §5.6); its errors become memory-fault exits. */
    private static GmemFault getPfn(Memslot slot, GmemBinding binding, long gfn, boolean isPrivate) {
        if (!(binding.file() instanceof GuestMemfd file)) {
            return exit(gfn, isPrivate, Errno.EFAULT); // released (KGM-10)
        }
        long index = gfn - slot.baseGfn() + binding.pgoff();
        if (file.slotAt(index) != slot) {
            return exit(gfn, isPrivate, Errno.EIO);
        }
        try {
            return new GmemFault.Page(file.page(index), true);
        } catch (SyscallException e) {
            return exit(gfn, isPrivate, e.errno());
        }
    }

    private static GmemFault exit(long gfn, boolean isPrivate, int errno) {
        return new GmemFault.MemoryFaultExit(gfn << PAGE_SHIFT, PAGE_SIZE, isPrivate, errno);
    }
}
