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
    /**
     * Guest-physical address width the x86 MMU accepts ({@code kvm_mmu_max_gfn}): 52 bits with shadow
     * paging, which is what the reference kernel of these machines uses (measured: a slot ending at
     * 2^52 is accepted, one page further is EINVAL). With TDP it would be the host's MAXPHYADDR.
     */
    public static final int MAX_GPA_BITS = 52;
    /** Highest gfn a memslot may contain. */
    public static final long MAX_GFN = (1L << (MAX_GPA_BITS - PAGE_SHIFT)) - 1;
    /** First address past x86-64 user space as {@code access_ok} sees it ({@code TASK_SIZE_MAX}). */
    public static final long TASK_SIZE_MAX = (1L << 47) - PAGE_SIZE;

    private KvmLimits() {
    }
}
