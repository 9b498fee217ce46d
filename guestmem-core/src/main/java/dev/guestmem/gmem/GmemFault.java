package dev.guestmem.gmem;

import java.lang.foreign.MemorySegment;

/** How the fault path must serve one guest access, as {@link GmemFaultSource} decides it (spec §5.8). */
public sealed interface GmemFault {
    /**
     * Served from the guest_memfd: {@code page} is the 4 KiB page backing the gfn (the pfn of
     * {@code kvm_gmem_get_pfn}), valid until the file is retired; guest_memfd pages are always mapped
     * writable (guest_memfd slots cannot be read-only).
     */
    record Page(MemorySegment page, boolean writable) implements GmemFault {
    }

    /**
     * Not a guest_memfd access: the fault continues on the shared path, through the slot's
     * {@code userspace_addr} (or as MMIO when there is no slot).
     */
    record Shared() implements GmemFault {
    }

    /**
     * {@code KVM_EXIT_MEMORY_FAULT}: {@code KVM_RUN} fails with {@code EFAULT} and reports
     * {@code memory_fault {flags: PRIVATE if isPrivate, gpa, size}}; {@code errno} is the error behind it
     * ({@code EFAULT} for a private/shared mismatch, a private access without guest_memfd or a closed
     * file; {@code EIO} for a binding that is not this slot's; {@code ENOMEM} if the page cannot be had).
     */
    record MemoryFaultExit(long gpa, long size, boolean isPrivate, int errno) implements GmemFault {
    }

    /** The one {@link Shared} instance. */
    Shared SHARED = new Shared();
}
