package dev.guestmem.vm;

import static dev.guestmem.memslot.KvmLimits.PAGE_SHIFT;

import dev.guestmem.host.HostFault;
import dev.guestmem.host.HostMemory;
import dev.guestmem.memslot.Memslot;
import dev.guestmem.memslot.MemslotFlags;
import dev.guestmem.memslot.MemslotStore;
import dev.guestmem.memslot.VcpuSlotCache;
import dev.guestmem.sync.Srcu;

/**
 * A vCPU whose accesses go straight from gpa to memslot to hva, with no page tables: each access looks
 * the slot up inside an SRCU read section (through the vCPU's own last-used cache) and touches the host
 * page through {@link HostMemory}, which reports a missing or protected page instead of faulting. The
 * MMU replaces this path with SPTEs and a TLB; the outcomes are the same.
 */
final class DirectVcpu implements Vcpu {
    /** Address space 0: the engine models no SMM, so vCPUs always use the normal address space. */
    private static final int AS_ID = 0;

    private final int id;
    private final Srcu srcu;
    private final MemslotStore store;
    private final HostMemory host;
    private final VcpuSlotCache cache = new VcpuSlotCache();

    DirectVcpu(int id, Srcu srcu, MemslotStore store, HostMemory host) {
        this.id = id;
        this.srcu = srcu;
        this.store = store;
        this.host = host;
    }

    @Override
    public int id() {
        return id;
    }

    @Override
    public Access read64(long gpa) {
        requireAligned(gpa);
        int token = srcu.readLock();
        try {
            Memslot slot = visibleSlot(gpa);
            if (slot == null) {
                return new Access.Mmio(gpa, false);
            }
            return new Access.Value(host.read64(hva(slot, gpa)));
        } catch (HostFault fault) {
            return new Access.Efault(gpa);
        } finally {
            srcu.readUnlock(token);
        }
    }

    @Override
    public Access write64(long gpa, long value) {
        requireAligned(gpa);
        int token = srcu.readLock();
        try {
            Memslot slot = visibleSlot(gpa);
            if (slot == null || slot.isReadOnly()) {
                // A store to a read-only memslot exits to userspace as MMIO (spec trace-format semantics).
                return new Access.Mmio(gpa, true);
            }
            host.write64(hva(slot, gpa), value);
            return Access.STORED;
        } catch (HostFault fault) {
            return new Access.Efault(gpa);
        } finally {
            srcu.readUnlock(token);
        }
    }

    /** The slot translating {@code gpa}, or null when none does (INVALID slots are absent, spec §2.2). */
    private Memslot visibleSlot(long gpa) {
        Memslot slot = store.active(AS_ID).lookup(gpa >>> PAGE_SHIFT, cache);
        if (slot == null || slot.isInvalid()) {
            return null;
        }
        if ((slot.flags() & MemslotFlags.GMEM_ONLY) != 0) {
            throw new UnsupportedOperationException(
                    "guest access to a guest_memfd-only slot needs guest_memfd memory: not implemented yet");
        }
        return slot;
    }

    private static long hva(Memslot slot, long gpa) {
        return slot.gfnToHva(gpa >>> PAGE_SHIFT) + (gpa & ((1L << PAGE_SHIFT) - 1));
    }

    private static void requireAligned(long gpa) {
        if ((gpa & 7) != 0) {
            throw new IllegalArgumentException("guest accesses are 8-byte aligned: gpa 0x" + Long.toHexString(gpa));
        }
    }
}
