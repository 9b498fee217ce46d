package dev.guestmem.gmem;

/**
 * Which guest mappings an invalidation may zap: {@code attr_filter} of {@code struct kvm_gfn_range}
 * ({@code KVM_FILTER_SHARED = 1}, {@code KVM_FILTER_PRIVATE = 2}; spec §3.1). Only an MMU with separate
 * page tables for private memory (TDX's mirror roots) narrows a zap by it; for the VM types modelled
 * here x86 zaps every mapping of the range whatever the filter
 * ({@code kvm_gfn_range_filter_to_root_types}), and an MMU may do the same.
 */
public enum ZapFilter {
    /** Shared mappings only: a punched hole in an {@code INIT_SHARED} guest_memfd. */
    SHARED(1),
    /** Private mappings only: a punched hole in any other guest_memfd. */
    PRIVATE(2),
    /** Both: memory-attribute changes and guest_memfd release. */
    BOTH(3);

    private final int bits;

    ZapFilter(int bits) {
        this.bits = bits;
    }

    /** The kernel's bit mask. */
    public int bits() {
        return bits;
    }

    /** The filter of a hole punched in a guest_memfd with these flags ({@code kvm_gmem_get_invalidate_filter}). */
    public static ZapFilter forGuestMemfd(long gmemFlags) {
        return (gmemFlags & GuestMemfd.FLAG_INIT_SHARED) != 0 ? SHARED : PRIVATE;
    }
}
