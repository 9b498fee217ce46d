package dev.guestmem.kvm;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.StructLayout;
import java.lang.foreign.UnionLayout;
import java.util.Arrays;

/**
 * The x86-64 uAPI structures the backend passes to KVM, as {@link MemoryLayout}s (kvm-memory-spec §6.2,
 * plus the vCPU structures, whose sizes and offsets were measured with gcc against {@code linux/kvm.h}).
 * Every layout is naturally aligned with explicit padding, exactly as the C compiler lays it out; the
 * tests pin each size and the offsets the backend relies on. Pointer unions are modelled as {@code u64}.
 */
public final class KvmLayouts {
    /** {@code struct kvm_userspace_memory_region}, 32 bytes. */
    public static final StructLayout USERSPACE_MEMORY_REGION = MemoryLayout.structLayout(
            JAVA_INT.withName("slot"),
            JAVA_INT.withName("flags"),
            JAVA_LONG.withName("guest_phys_addr"),
            JAVA_LONG.withName("memory_size"),
            JAVA_LONG.withName("userspace_addr")).withName("kvm_userspace_memory_region");

    /** {@code struct kvm_userspace_memory_region2}, 160 bytes; its first 32 bytes are the v1 layout. */
    public static final StructLayout USERSPACE_MEMORY_REGION2 = MemoryLayout.structLayout(
            JAVA_INT.withName("slot"),
            JAVA_INT.withName("flags"),
            JAVA_LONG.withName("guest_phys_addr"),
            JAVA_LONG.withName("memory_size"),
            JAVA_LONG.withName("userspace_addr"),
            JAVA_LONG.withName("guest_memfd_offset"),
            JAVA_INT.withName("guest_memfd"),
            JAVA_INT.withName("pad1"),
            MemoryLayout.sequenceLayout(14, JAVA_LONG).withName("pad2")).withName("kvm_userspace_memory_region2");

    /** {@code struct kvm_dirty_log}, 16 bytes. */
    public static final StructLayout DIRTY_LOG = MemoryLayout.structLayout(
            JAVA_INT.withName("slot"),
            JAVA_INT.withName("padding1"),
            JAVA_LONG.withName("dirty_bitmap")).withName("kvm_dirty_log");

    /** {@code struct kvm_clear_dirty_log}, 24 bytes. */
    public static final StructLayout CLEAR_DIRTY_LOG = MemoryLayout.structLayout(
            JAVA_INT.withName("slot"),
            JAVA_INT.withName("num_pages"),
            JAVA_LONG.withName("first_page"),
            JAVA_LONG.withName("dirty_bitmap")).withName("kvm_clear_dirty_log");

    /** {@code struct kvm_create_guest_memfd}, 64 bytes. */
    public static final StructLayout CREATE_GUEST_MEMFD = MemoryLayout.structLayout(
            JAVA_LONG.withName("size"),
            JAVA_LONG.withName("flags"),
            MemoryLayout.sequenceLayout(6, JAVA_LONG).withName("reserved")).withName("kvm_create_guest_memfd");

    /** {@code struct kvm_memory_attributes}, 32 bytes. */
    public static final StructLayout MEMORY_ATTRIBUTES = MemoryLayout.structLayout(
            JAVA_LONG.withName("address"),
            JAVA_LONG.withName("size"),
            JAVA_LONG.withName("attributes"),
            JAVA_LONG.withName("flags")).withName("kvm_memory_attributes");

    /** {@code struct kvm_enable_cap}, 104 bytes. */
    public static final StructLayout ENABLE_CAP = MemoryLayout.structLayout(
            JAVA_INT.withName("cap"),
            JAVA_INT.withName("flags"),
            MemoryLayout.sequenceLayout(4, JAVA_LONG).withName("args"),
            MemoryLayout.sequenceLayout(64, JAVA_BYTE).withName("pad")).withName("kvm_enable_cap");

    /** {@code struct kvm_dirty_gfn}, 16 bytes: one dirty-ring entry. */
    public static final StructLayout DIRTY_GFN = MemoryLayout.structLayout(
            JAVA_INT.withName("flags"),
            JAVA_INT.withName("slot"),
            JAVA_LONG.withName("offset")).withName("kvm_dirty_gfn");

    /** {@code struct kvm_regs}, 144 bytes: the general-purpose registers, rip and rflags. */
    public static final StructLayout REGS = MemoryLayout.structLayout(Arrays.stream(new String[] {
        "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp",
        "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "rflags"})
            .map(JAVA_LONG::withName).toArray(MemoryLayout[]::new)).withName("kvm_regs");

    /** {@code struct kvm_segment}, 24 bytes: a segment register's hidden descriptor cache. */
    public static final StructLayout SEGMENT = MemoryLayout.structLayout(
            JAVA_LONG.withName("base"),
            JAVA_INT.withName("limit"),
            JAVA_SHORT.withName("selector"),
            JAVA_BYTE.withName("type"),
            JAVA_BYTE.withName("present"),
            JAVA_BYTE.withName("dpl"),
            JAVA_BYTE.withName("db"),
            JAVA_BYTE.withName("s"),
            JAVA_BYTE.withName("l"),
            JAVA_BYTE.withName("g"),
            JAVA_BYTE.withName("avl"),
            JAVA_BYTE.withName("unusable"),
            JAVA_BYTE.withName("padding")).withName("kvm_segment");

    /** {@code struct kvm_dtable}, 16 bytes: a descriptor-table register (GDTR, IDTR). */
    public static final StructLayout DTABLE = MemoryLayout.structLayout(
            JAVA_LONG.withName("base"),
            JAVA_SHORT.withName("limit"),
            MemoryLayout.sequenceLayout(3, JAVA_SHORT).withName("padding")).withName("kvm_dtable");

    /** {@code struct kvm_sregs}, 312 bytes: segments, descriptor tables, control registers, EFER. */
    public static final StructLayout SREGS = MemoryLayout.structLayout(
            SEGMENT.withName("cs"),
            SEGMENT.withName("ds"),
            SEGMENT.withName("es"),
            SEGMENT.withName("fs"),
            SEGMENT.withName("gs"),
            SEGMENT.withName("ss"),
            SEGMENT.withName("tr"),
            SEGMENT.withName("ldt"),
            DTABLE.withName("gdt"),
            DTABLE.withName("idt"),
            JAVA_LONG.withName("cr0"),
            JAVA_LONG.withName("cr2"),
            JAVA_LONG.withName("cr3"),
            JAVA_LONG.withName("cr4"),
            JAVA_LONG.withName("cr8"),
            JAVA_LONG.withName("efer"),
            JAVA_LONG.withName("apic_base"),
            // (KVM_NR_INTERRUPTS 256 + 63) / 64 words
            MemoryLayout.sequenceLayout(4, JAVA_LONG).withName("interrupt_bitmap")).withName("kvm_sregs");

    /** The {@code mmio} member of {@code kvm_run}'s exit union. */
    public static final StructLayout RUN_MMIO = MemoryLayout.structLayout(
            JAVA_LONG.withName("phys_addr"),
            MemoryLayout.sequenceLayout(8, JAVA_BYTE).withName("data"),
            JAVA_INT.withName("len"),
            JAVA_BYTE.withName("is_write"),
            MemoryLayout.paddingLayout(3)).withName("mmio");

    /** The {@code memory_fault} member of {@code kvm_run}'s exit union. */
    public static final StructLayout RUN_MEMORY_FAULT = MemoryLayout.structLayout(
            JAVA_LONG.withName("flags"),
            JAVA_LONG.withName("gpa"),
            JAVA_LONG.withName("size")).withName("memory_fault");

    /** {@code kvm_run}'s exit union: 256 bytes, of which the backend decodes two members. */
    public static final UnionLayout RUN_EXIT = MemoryLayout.unionLayout(
            RUN_MMIO,
            RUN_MEMORY_FAULT,
            MemoryLayout.sequenceLayout(256, JAVA_BYTE).withName("padding")).withName("exit");

    /**
     * {@code struct kvm_run}, 2352 bytes: the page shared with the kernel through the vCPU fd's mmap.
     * The register-sync union {@code s} at the end is kept opaque.
     */
    public static final StructLayout RUN = MemoryLayout.structLayout(
            JAVA_BYTE.withName("request_interrupt_window"),
            JAVA_BYTE.withName("immediate_exit"),
            MemoryLayout.sequenceLayout(6, JAVA_BYTE).withName("padding1"),
            JAVA_INT.withName("exit_reason"),
            JAVA_BYTE.withName("ready_for_interrupt_injection"),
            JAVA_BYTE.withName("if_flag"),
            JAVA_SHORT.withName("flags"),
            JAVA_LONG.withName("cr8"),
            JAVA_LONG.withName("apic_base"),
            RUN_EXIT,
            JAVA_LONG.withName("kvm_valid_regs"),
            JAVA_LONG.withName("kvm_dirty_regs"),
            MemoryLayout.sequenceLayout(2048, JAVA_BYTE).withName("s")).withName("kvm_run");

    private KvmLayouts() {
    }

    /** The byte offset of the field named by {@code path} (group element names) in {@code layout}. */
    public static long offset(MemoryLayout layout, String... path) {
        return layout.byteOffset(Arrays.stream(path).map(PathElement::groupElement).toArray(PathElement[]::new));
    }
}
