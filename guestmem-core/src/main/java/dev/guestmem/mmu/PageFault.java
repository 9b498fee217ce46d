package dev.guestmem.mmu;

import dev.guestmem.memslot.Memslot;

/**
 * {@code struct kvm_page_fault}: one fault's inputs and what the slow path found out about it before
 * taking the MMU lock. Lives on the faulting thread only.
 */
final class PageFault {
    final long gfn;
    final boolean write;
    /** The slot, or null for a gfn no slot covers (MMIO). */
    final Memslot slot;
    /** The memslot generation the slot was looked up under (for MMIO SPTEs). */
    final long generation;
    /** {@code mmu_invalidate_seq} snapshotted before the pfn was resolved. */
    final long mmuSeq;
    long hva;
    long pfn;
    boolean hostWritable;
    int goalLevel = PageLevel.PG_4K;

    PageFault(long gfn, boolean write, Memslot slot, long generation, long mmuSeq) {
        this.gfn = gfn;
        this.write = write;
        this.slot = slot;
        this.generation = generation;
        this.mmuSeq = mmuSeq;
    }
}
