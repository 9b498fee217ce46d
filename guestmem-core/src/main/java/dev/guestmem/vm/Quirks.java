package dev.guestmem.vm;

import dev.guestmem.Errno;

/**
 * The x86 quirks of one VM ({@code kvm->arch.disabled_quirks}): behaviours kept for old userspace that a
 * VMM may turn off with {@code KVM_CAP_DISABLE_QUIRKS} or {@code KVM_CAP_DISABLE_QUIRKS2}. The engine models
 * one, {@link #SLOT_ZAP_ALL}; the others concern vCPU emulation outside guest memory, so disabling them is
 * accepted, as the kernel does, and changes nothing here.
 */
public final class Quirks {
    /**
     * {@code KVM_X86_QUIRK_SLOT_ZAP_ALL}: a memslot DELETE or MOVE drops every SPTE of the VM, not just the
     * slot's (memslot_perf_test's {@code -q} disables it for the move tests).
     */
    public static final long SLOT_ZAP_ALL = 1L << 7;
    /**
     * {@code KVM_CHECK_EXTENSION(KVM_CAP_DISABLE_QUIRKS2)} on the reference host (Linux 6.18, AMD): every
     * quirk but {@code KVM_X86_QUIRK_IGNORE_GUEST_PAT} (bit 9), which only Intel hosts offer.
     */
    public static final long SUPPORTED = 0x5ff;

    private volatile long disabled;

    /** A VM's quirks, all on except {@link #SLOT_ZAP_ALL} when {@code slotZapAll} is false. */
    public Quirks(boolean slotZapAll) {
        disabled = slotZapAll ? 0 : SLOT_ZAP_ALL;
    }

    /**
     * {@code KVM_ENABLE_CAP(capability, mask)} for {@link Capability#DISABLE_QUIRKS} (any mask, the unknown
     * bits ignored) or {@link Capability#DISABLE_QUIRKS2} (a bit outside {@link #SUPPORTED} is
     * {@code EINVAL}); allowed at any time, before or after vCPUs exist, as on the reference kernel.
     *
     * @return 0 or {@code EINVAL}
     */
    public synchronized int disable(int capability, long mask) {
        if (capability == Capability.DISABLE_QUIRKS2 && (mask & ~SUPPORTED) != 0) {
            return Errno.EINVAL;
        }
        disabled |= mask & SUPPORTED;
        return 0;
    }

    /** Whether {@code quirk} (a {@code KVM_X86_QUIRK_*} bit) is still on. */
    public boolean enabled(long quirk) {
        return (disabled & quirk) == 0;
    }
}
