package dev.guestmem.mmu;

/**
 * {@code kvm_flush_remote_tlbs}: when it returns, no vCPU executes guest code with translations older
 * than the call, and every vCPU that enters the guest later first drops its TLB and paging-structure
 * caches (mmu.md §4.2). Implemented by the vCPU set.
 */
@FunctionalInterface
public interface TlbFlusher {
    /** A flusher for a VM without vCPUs. */
    TlbFlusher NONE = () -> {
    };

    /** Requests a flush on every vCPU, kicks those in guest mode and waits for them to leave it. */
    void flushRemoteTlbs();
}
