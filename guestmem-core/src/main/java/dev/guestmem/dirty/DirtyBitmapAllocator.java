package dev.guestmem.dirty;

import dev.guestmem.memslot.Memslot;
import dev.guestmem.vm.MemslotChange;

/**
 * The dirty-bitmap decision of {@code kvm_prepare_memory_region} (spec §4.1), made for the new slot of
 * every change but DELETE, before the architecture's prepare hook:
 * <ul>
 *   <li>no {@code LOG_DIRTY_PAGES} in the new flags: no bitmap (the old one is dropped at commit);</li>
 *   <li>the old slot has a bitmap: the same object, contents and all (FLAGS_ONLY keeping logging on,
 *       MOVE);</li>
 *   <li>else, if bitmaps are in use (no dirty ring): a fresh zeroed one, all-ones for the slot's pages
 *       under {@code KVM_DIRTY_LOG_INITIALLY_SET};</li>
 *   <li>with a dirty ring: no bitmap.</li>
 * </ul>
 * If the arch prepare then fails, the new slot and its fresh bitmap are simply dropped.
 */
public final class DirtyBitmapAllocator {
    private final DirtyLogCaps caps;

    DirtyBitmapAllocator(DirtyLogCaps caps) {
        this.caps = caps;
    }

    /** {@code next} with the bitmap it gets; {@code next} itself (null for DELETE) when nothing changes. */
    public Memslot prepare(Memslot old, Memslot next, MemslotChange change) {
        if (change == MemslotChange.DELETE || next == null || !next.logsDirtyPages()) {
            return next;
        }
        if (old != null && old.dirtyBitmap() != null) {
            return next.withDirtyBitmap(old.dirtyBitmap());
        }
        if (!caps.useDirtyBitmap()) {
            return next;
        }
        DirtyBitmap bitmap = DirtyBitmap.allocate(next.npages());
        if (caps.initiallySet()) {
            bitmap.setAll();
        }
        return next.withDirtyBitmap(bitmap);
    }
}
