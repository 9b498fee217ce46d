package dev.guestmem.dirty;

/**
 * Counters of a VM's dirty logging.
 *
 * @param loggingSlots    {@code kvm->nr_memslots_dirty_logging}: slots with {@code LOG_DIRTY_PAGES}
 * @param lostWithoutVcpu marks made with dirty rings, no running vCPU and no bitmap, which the kernel
 *                        drops with a WARN (must stay 0)
 * @param ringOverflows   pushes into a completely full ring (must stay 0)
 */
public record DirtyLogStats(int loggingSlots, long lostWithoutVcpu, long ringOverflows) {
}
