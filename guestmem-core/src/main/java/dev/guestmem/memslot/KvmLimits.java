package dev.guestmem.memslot;

/** x86-64 constants of the memslot layer (spec §6.1). */
public final class KvmLimits {
    public static final int PAGE_SHIFT = 12;
    public static final long PAGE_SIZE = 1L << PAGE_SHIFT;
    /** {@code KVM_MEM_SLOTS_NUM} = SHRT_MAX. */
    public static final int MEM_SLOTS_NUM = Short.MAX_VALUE;
    /** {@code KVM_INTERNAL_MEM_SLOTS} on x86. */
    public static final int INTERNAL_MEM_SLOTS = 3;
    /** {@code KVM_USER_MEM_SLOTS}: what {@code KVM_CAP_NR_MEMSLOTS} reports. */
    public static final int USER_MEM_SLOTS = MEM_SLOTS_NUM - INTERNAL_MEM_SLOTS;
    /** {@code KVM_MAX_NR_ADDRESS_SPACES} on x86 with SMM. */
    public static final int MAX_ADDRESS_SPACES = 2;
    /** {@code KVM_MEM_MAX_NR_PAGES}. */
    public static final long MEM_MAX_NR_PAGES = (1L << 31) - 1;
    /** {@code KVM_MEMSLOT_GEN_UPDATE_IN_PROGRESS}. */
    public static final long GEN_UPDATE_IN_PROGRESS = 1L << 63;
    /** First address past x86-64 user space as {@code access_ok} sees it ({@code TASK_SIZE_MAX}). */
    public static final long TASK_SIZE_MAX = (1L << 47) - PAGE_SIZE;

    private KvmLimits() {
    }
}
