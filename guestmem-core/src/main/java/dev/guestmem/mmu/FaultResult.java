package dev.guestmem.mmu;

/** The MMU's internal page-fault return codes ({@code RET_PF_*}, mmu.md §2.1). */
enum FaultResult {
    /** Re-enter the guest; it faults again if the access still cannot complete. */
    RETRY,
    /** The SPTE already allowed the access (another vCPU fixed it, or the TLB was stale). */
    SPURIOUS,
    /** An SPTE was installed or changed. */
    FIXED,
    /** No memslot: an MMIO SPTE was installed and the access is emulated as MMIO. */
    MMIO_SPTE,
    /** The leaf was installed read-only because the gfn is write-tracked, and the access is a write. */
    WRITE_PROTECTED,
    /** The fast path cannot help; take the slow path. */
    INVALID
}
