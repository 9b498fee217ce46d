package dev.guestmem.vm;

/** {@code KVM_CAP_*} numbers (spec §6.1). */
public final class Capability {
    public static final int USER_MEMORY = 3;
    public static final int NR_MEMSLOTS = 10;
    public static final int SYNC_MMU = 16;
    public static final int READONLY_MEM = 81;
    /** x86: disables the quirks in {@code args[0]} ({@link Quirks}); unknown bits are ignored. */
    public static final int DISABLE_QUIRKS = 116;
    public static final int MULTI_ADDRESS_SPACE = 118;
    /** Obsolete: must not be used (spec §4.5); x86 answers 0 and refuses to enable it. */
    public static final int MANUAL_DIRTY_LOG_PROTECT = 166;
    public static final int MANUAL_DIRTY_LOG_PROTECT2 = 168;
    public static final int DIRTY_LOG_RING = 192;
    /** x86: as {@link #DISABLE_QUIRKS}, but an unsupported bit is EINVAL; checking it gives the supported mask. */
    public static final int DISABLE_QUIRKS2 = 213;
    public static final int DIRTY_LOG_RING_ACQ_REL = 223;
    /** arm64 only: x86 answers 0 and refuses to enable it. */
    public static final int DIRTY_LOG_RING_WITH_BITMAP = 225;
    public static final int USER_MEMORY2 = 231;
    public static final int MEMORY_FAULT_INFO = 232;
    public static final int MEMORY_ATTRIBUTES = 233;
    public static final int GUEST_MEMFD = 234;
    public static final int VM_TYPES = 235;
    public static final int GUEST_MEMFD_FLAGS = 244;

    private Capability() {
    }
}
