package dev.guestmem.memslot;

/** Memslot flag bits: the userspace ones (bits 0..15) and KVM's internal ones (spec §2.1, §6.1). */
public final class MemslotFlags {
    /** {@code KVM_MEM_LOG_DIRTY_PAGES}. */
    public static final int LOG_DIRTY_PAGES = 1;
    /** {@code KVM_MEM_READONLY}. */
    public static final int READONLY = 1 << 1;
    /** {@code KVM_MEM_GUEST_MEMFD} (only through {@code KVM_SET_USER_MEMORY_REGION2}). */
    public static final int GUEST_MEMFD = 1 << 2;
    /** Internal: the slot is being deleted or moved; absent for translations, present for notifiers. */
    public static final int INVALID = 1 << 16;
    /** Internal (v6.18): every fault, shared or private, is served from the guest_memfd. */
    public static final int GMEM_ONLY = 1 << 17;
    /** Flags {@code KVM_SET_USER_MEMORY_REGION} (v1) accepts at all. */
    public static final int V1_FLAGS = LOG_DIRTY_PAGES | READONLY;

    private MemslotFlags() {
    }
}
