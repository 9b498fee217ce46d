package dev.guestmem.dirty;

/**
 * One entry of a dirty ring, {@code struct kvm_dirty_gfn} (spec §4.6, §6.2): {@code u32 flags @0},
 * {@code u32 slot @4} ({@code as_id << 16 | id}), {@code u64 offset @8} (gfn minus the slot's base gfn).
 *
 * @param flags  {@link #DIRTY} and/or {@link #RESET} ({@code 00} free, {@code 01} dirty, {@code 1X}
 *               harvested)
 * @param slot   the slot word
 * @param offset the page's index in the slot
 */
public record DirtyGfn(int flags, int slot, long offset) {
    /** {@code KVM_DIRTY_GFN_F_DIRTY}: KVM pushed the entry. */
    public static final int DIRTY = 1;
    /** {@code KVM_DIRTY_GFN_F_RESET}: userspace harvested it; the next reset frees it. */
    public static final int RESET = 2;
    /** {@code KVM_DIRTY_GFN_F_MASK}. */
    public static final int MASK = DIRTY | RESET;
    /** {@code sizeof(struct kvm_dirty_gfn)}. */
    public static final int BYTES = 16;

    /** Whether KVM pushed the entry and userspace has not harvested it yet. */
    public boolean isDirty() {
        return (flags & MASK) == DIRTY;
    }
}
