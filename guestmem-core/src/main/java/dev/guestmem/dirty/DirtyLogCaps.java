package dev.guestmem.dirty;

import dev.guestmem.Errno;
import dev.guestmem.memslot.KvmLimits;
import dev.guestmem.vm.Capability;

/**
 * The VM-wide dirty-logging capabilities and their {@code KVM_ENABLE_CAP} rules (spec §4.5, §4.6), as
 * x86 has them: {@code manual_dirty_log_protect} and {@code dirty_ring_size}. There is no PML in the
 * engine, so the ring reserves only {@link DirtyRing#RESERVED_ENTRIES}; {@code
 * KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP} is arm64-only, so a ring always means no bitmaps. Thread-safe.
 */
public final class DirtyLogCaps {
    /** {@code KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE}. */
    public static final long MANUAL_PROTECT_ENABLE = 1;
    /** {@code KVM_DIRTY_LOG_INITIALLY_SET}. */
    public static final long INITIALLY_SET = 2;
    /** {@code KVM_DIRTY_LOG_MANUAL_CAPS} on x86. */
    public static final long MANUAL_CAPS = MANUAL_PROTECT_ENABLE | INITIALLY_SET;
    /** Largest ring in bytes ({@code KVM_DIRTY_RING_MAX_ENTRIES * sizeof(struct kvm_dirty_gfn)}). */
    public static final long MAX_RING_BYTES = (long) DirtyRing.MAX_ENTRIES * DirtyGfn.BYTES;

    private volatile long manualProtect;
    /** Ring size in bytes, 0 without rings; set once, under this object's lock ({@code kvm->lock}). */
    private volatile int ringBytes;

    /** {@code KVM_CHECK_EXTENSION} for the dirty-logging capabilities; 0 for any other. */
    public static long checkExtension(int capability) {
        return switch (capability) {
            case Capability.MANUAL_DIRTY_LOG_PROTECT2 -> MANUAL_CAPS;
            case Capability.DIRTY_LOG_RING, Capability.DIRTY_LOG_RING_ACQ_REL -> MAX_RING_BYTES;
            default -> 0; // includes the obsolete MANUAL_DIRTY_LOG_PROTECT and RING_WITH_BITMAP (arm64)
        };
    }

    /**
     * {@code KVM_ENABLE_CAP(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)}: without ENABLE only ENABLE (or 0) is
     * allowed, with it the full caps mask; so INITIALLY_SET alone is {@code EINVAL}. Any value may replace
     * the previous one at any time (0 turns manual protection off); INITIALLY_SET only affects bitmaps
     * allocated later.
     */
    public int enableManualProtect(long arg0) {
        long allowed = (arg0 & MANUAL_PROTECT_ENABLE) != 0 ? MANUAL_CAPS : MANUAL_PROTECT_ENABLE;
        if ((arg0 & ~allowed) != 0) {
            return Errno.EINVAL;
        }
        manualProtect = arg0;
        return 0;
    }

    /**
     * {@code kvm_vm_ioctl_enable_dirty_log_ring}: {@code arg0} is the ring size in bytes, taken as the
     * kernel's {@code u32} parameter (the upper half is dropped, as measured on the reference kernel). A
     * size that is 0 or not a power of two, below the reserved entries or a page, is {@code EINVAL}; above
     * 1 MiB {@code E2BIG}; a second enable, or one after a vCPU exists, {@code EINVAL}.
     */
    public synchronized int enableRing(long arg0, boolean vcpusExist) {
        long size = arg0 & 0xFFFF_FFFFL;
        if (size == 0 || Long.bitCount(size) != 1) {
            return Errno.EINVAL;
        }
        if (size < (long) DirtyRing.RESERVED_ENTRIES * DirtyGfn.BYTES || size < KvmLimits.PAGE_SIZE) {
            return Errno.EINVAL;
        }
        if (size > MAX_RING_BYTES) {
            return Errno.E2BIG;
        }
        if (ringBytes != 0 || vcpusExist) {
            return Errno.EINVAL;
        }
        ringBytes = (int) size;
        return 0;
    }

    /** {@code manual_dirty_log_protect != 0}: GET does not clear, CLEAR re-protects. */
    public boolean manualProtect() {
        return manualProtect != 0;
    }

    /** Whether bitmaps allocated now start all-ones. */
    boolean initiallySet() {
        return (manualProtect & INITIALLY_SET) != 0;
    }

    /** Whether dirty rings are in use. */
    public boolean ringsEnabled() {
        return ringBytes != 0;
    }

    /** Entries per vCPU ring; 0 without rings. */
    int ringEntries() {
        return ringBytes / DirtyGfn.BYTES;
    }

    /** {@code kvm_use_dirty_bitmap}: no ring (ring-with-bitmap does not exist on x86). */
    public boolean useDirtyBitmap() {
        return ringBytes == 0;
    }
}
