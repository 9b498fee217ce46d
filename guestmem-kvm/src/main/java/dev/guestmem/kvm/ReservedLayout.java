package dev.guestmem.kvm;

/**
 * The guest-physical addresses the KVM backend keeps for itself (trace-format.md, "Reserved for the
 * reference runner"). A guest access needs guest code: it lives, with its descriptor table and page
 * tables, in memslot {@value #SLOT} at {@code 0xFFE00000}, and signals the end of an access by a store
 * to the doorbell {@code 0xFFD00000}, which lies in no memslot so that the store exits as MMIO. The
 * page tables identity-map only the low 4 GiB, so guest accesses must stay below
 * {@link #IDENTITY_MAP_END}.
 *
 * <pre>
 * 0xFFD00000             doorbell (no memslot: every store there is an MMIO exit)
 * 0xFFE00000 - 0xFFE00FFF  code: the store stub at +0x00, the load stub at +0x10
 * 0xFFE01000 - 0xFFE01FFF  GDT: null, 64-bit user code (selector 0x0B), user data (0x13)
 * 0xFFE02000 - 0xFFE02FFF  PML4 (CR3)
 * 0xFFE03000 - 0xFFE03FFF  PDPT: four entries, one per GiB
 * 0xFFE04000 - 0xFFE07FFF  four page directories of 2 MiB pages covering 0 - 4 GiB
 * </pre>
 */
public final class ReservedLayout {
    /** The memslot id of the guest code (address space 0); one below the last user slot id, 32763. */
    public static final int SLOT = 32763;
    /** First guest-physical address of the reserved memslot. */
    public static final long BASE = 0xFFE00000L;
    /** Size of the reserved memslot: eight pages. */
    public static final long SIZE = 0x8000L;
    /** The doorbell: the stub's last store goes here, in no memslot. */
    public static final long DOORBELL = 0xFFD00000L;
    /** End (exclusive) of the identity map: guest accesses must lie below it. */
    public static final long IDENTITY_MAP_END = 1L << 32;

    /** Entry point of the store stub: {@code mov [rdi], rsi; mov [rbx], rax; ud2}. */
    static final long STORE_ENTRY = BASE;
    /** Entry point of the load stub: {@code mov rax, [rdi]; mov [rbx], rax; ud2}. */
    static final long LOAD_ENTRY = BASE + 0x10;
    /** The strided store loop's first instruction. */
    static final long FILL_ENTRY = BASE + 0x20;
    /** The strided load-compare-clear loop's first instruction. */
    static final long TAKE_ENTRY = BASE + 0x40;
    /** The global descriptor table. */
    static final long GDT = BASE + 0x1000;
    /** The top-level page table, loaded into CR3. */
    static final long PML4 = BASE + 0x2000;
    /** The page-directory-pointer table. */
    static final long PDPT = BASE + 0x3000;
    /** The first of the four page directories. */
    static final long PAGE_DIRECTORIES = BASE + 0x4000;
    /** Ring-3 selector of the 64-bit code segment (GDT index 1, RPL 3). */
    static final int USER_CODE_SELECTOR = 0x08 | 3;
    /** Ring-3 selector of the data/stack segment (GDT index 2, RPL 3). */
    static final int USER_DATA_SELECTOR = 0x10 | 3;
    /** GDTR limit: three 8-byte descriptors. */
    static final int GDT_LIMIT = 3 * 8 - 1;

    private ReservedLayout() {
    }

    /** Whether {@code gpa} lies in the reserved slot or is the doorbell. */
    public static boolean isReserved(long gpa) {
        return gpa == DOORBELL || (Long.compareUnsigned(gpa, BASE) >= 0 && Long.compareUnsigned(gpa, BASE + SIZE) < 0);
    }
}
