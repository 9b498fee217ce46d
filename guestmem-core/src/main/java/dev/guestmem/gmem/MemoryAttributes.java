package dev.guestmem.gmem;

import static dev.guestmem.memslot.KvmLimits.PAGE_SHIFT;
import static dev.guestmem.memslot.KvmLimits.PAGE_SIZE;

import dev.guestmem.Errno;

/**
 * The memory attributes of one VM ({@code kvm->mem_attr_array}, spec §5.7): per gfn, VM-wide (not per
 * address space, not per slot; gfns without a memslot may carry attributes, and attributes outlive slot
 * deletion). A gfn without an entry has attributes 0, i.e. shared.
 *
 * <p>Lookups ({@link #get}, {@link #isPrivate}) are lock-free and run on every fault. Updates
 * ({@link #set}) must be serialized by the caller's slots lock, which also keeps the memslots still
 * while the update's invalidation walks them.
 */
public final class MemoryAttributes {
    /** {@code KVM_MEMORY_ATTRIBUTE_PRIVATE}. */
    public static final long PRIVATE = 1L << 3;

    private final long supported;
    private final SparseRangeMap<Long> byGfn = new SparseRangeMap<>();

    /**
     * Attributes of a VM with private memory ({@code SW_PROTECTED}: {@link #PRIVATE} is supported) or
     * without (every attribute is refused).
     */
    public MemoryAttributes(boolean privateMemory) {
        this.supported = privateMemory ? PRIVATE : 0;
    }

    /** {@code kvm_supported_mem_attributes}: the attributes {@link #set} accepts. */
    public long supported() {
        return supported;
    }

    /**
     * {@code KVM_SET_MEMORY_ATTRIBUTES} (spec §5.7, KMA-01..04): checks in the kernel's order
     * ({@code flags}, unsupported attributes, empty or wrapping range, alignment), then, unless every
     * gfn of the range already has exactly {@code attributes}, stores them inside an invalidation
     * window of {@code invalidation} (the walker zaps the range in every slot it meets; 0 erases).
     *
     * @return 0 or {@code EINVAL}
     */
    public int set(long address, long size, long attributes, long flags, GfnRangeInvalidation invalidation) {
        if (flags != 0) {
            return Errno.EINVAL;
        }
        if ((attributes & ~supported) != 0) {
            return Errno.EINVAL;
        }
        if (size == 0 || Long.compareUnsigned(address + size, address) < 0) {
            return Errno.EINVAL;
        }
        if ((address & (PAGE_SIZE - 1)) != 0 || (size & (PAGE_SIZE - 1)) != 0) {
            return Errno.EINVAL;
        }
        long start = address >>> PAGE_SHIFT;
        long end = (address + size) >>> PAGE_SHIFT;
        Long value = attributes == 0 ? null : attributes;
        if (byGfn.isUniform(start, end, value)) {
            return 0; // kvm_range_has_memory_attributes: nothing changes, no invalidation
        }
        invalidation.invalidate(start, end, () -> byGfn.store(start, end, value));
        return 0;
    }

    /** The attributes of {@code gfn} (0 when none are set). */
    public long get(long gfn) {
        Long value = byGfn.get(gfn);
        return value == null ? 0 : value;
    }

    /** {@code kvm_mem_is_private}: whether {@code gfn} has {@link #PRIVATE}. */
    public boolean isPrivate(long gfn) {
        return (get(gfn) & PRIVATE) != 0;
    }

    /**
     * {@code kvm_range_has_memory_attributes(start, end, mask, attrs)}: whether every gfn of
     * {@code [start, end)} has {@code attrs} under {@code mask} (restricted to the supported
     * attributes); for {@code attrs == 0}, whether no gfn has any attribute.
     */
    public boolean rangeHas(long start, long end, long mask, long attrs) {
        long effectiveMask = mask & supported;
        if ((attrs & ~effectiveMask) != 0) {
            return false;
        }
        if (attrs == 0) {
            return byGfn.isUniform(start, end, null);
        }
        for (long gfn = start; Long.compareUnsigned(gfn, end) < 0; ) {
            Long value = byGfn.get(gfn);
            if (value == null || (value & effectiveMask) != attrs) {
                return false;
            }
            gfn = nextRangeStart(gfn);
        }
        return true;
    }

    /** Number of stored ranges (runs of gfns with equal attributes): how compact the map is. */
    public int rangeCount() {
        return byGfn.rangeCount();
    }

    /** The first gfn after the run of equal attributes containing {@code gfn} (which has an entry). */
    private long nextRangeStart(long gfn) {
        return byGfn.intersecting(gfn, gfn + 1).get(0).end();
    }
}
