package dev.guestmem.mmu;

import dev.guestmem.memslot.Memslot;

/**
 * Where the MMU reports guest writes that dirty logging must see ({@code mark_page_dirty_in_slot}):
 * when a fault creates a writable SPTE in a logging slot, when the fast path makes one writable, and
 * when a write to a write-tracked gfn is emulated. The default records nothing; the dirty-logging layer
 * supplies the bitmap or ring.
 */
public interface DirtyTracker {
    /** Records nothing. */
    DirtyTracker NONE = new DirtyTracker() {
    };

    /** {@code gfn} of {@code slot} (which logs dirty pages) may now be written without a VM exit. */
    default void markPageDirty(Memslot slot, long gfn) {
    }
}
