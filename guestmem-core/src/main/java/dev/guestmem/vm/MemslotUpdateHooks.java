package dev.guestmem.vm;

import dev.guestmem.memslot.Memslot;

/**
 * The architecture side of a memslot update ({@code kvm_arch_flush_shadow_memslot},
 * {@code kvm_arch_prepare_memory_region}, {@code kvm_arch_commit_memory_region}): the MMU zaps, the
 * dirty log allocates bitmaps. All run with the slots lock held.
 */
public interface MemslotUpdateHooks {
    /** Hooks that do nothing: a VM whose guest accesses go straight through the memslots. */
    MemslotUpdateHooks NONE = new MemslotUpdateHooks() {
    };

    /**
     * The INVALID copy of {@code old} is now the published slot (DELETE and MOVE): drop every mapping
     * of {@code old} and flush TLBs before returning.
     */
    default void invalidated(Memslot old) {
    }

    /** Prepares {@code next} (null for DELETE); returns 0 or an errno that aborts the update. */
    default int prepare(Memslot old, Memslot next, MemslotChange change) {
        return 0;
    }

    /** The update is published; {@code old} is unreachable by readers. */
    default void commit(Memslot old, Memslot next, MemslotChange change) {
    }
}
