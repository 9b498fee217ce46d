package dev.guestmem.mmu;

/** What a vCPU does after the MMU handled its page fault. */
public enum FaultOutcome {
    /** Re-enter the guest and retry the access (fixed, spurious, or to be retried). */
    RETRY_ACCESS,
    /** The access exits to userspace as MMIO (no usable memslot, or a store to a read-only slot). */
    MMIO_EXIT,
    /** {@code KVM_RUN} fails with EFAULT: the host page is missing or forbids the access. */
    EFAULT,
    /** The store was emulated by the MMU (write-tracked gfn); the access is complete. */
    EMULATED,
    /** {@code KVM_EXIT_MEMORY_FAULT} for a private access (guest_memfd cannot serve it, or a mismatch). */
    MEMORY_FAULT_PRIVATE,
    /** {@code KVM_EXIT_MEMORY_FAULT} for a shared access. */
    MEMORY_FAULT_SHARED
}
