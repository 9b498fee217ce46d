package dev.guestmem.kvm;

import static dev.guestmem.kvm.KvmLayouts.offset;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemoryLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import java.util.stream.Stream;

/**
 * The ioctl numbers against the structure sizes the kernel expects: each number is recomputed from
 * {@code _IOC(dir, 0xAE, nr, sizeof)} with the size of our {@link KvmLayouts} layout, so a layout of the
 * wrong size or a mistyped number fails. Sizes and offsets are pinned to what gcc reports for
 * {@code linux/kvm.h} on x86-64 (for the structures newer than the installed headers, to the spec's
 * gcc-verified table §6.2). Needs no {@code /dev/kvm}.
 */
class KvmIoctlsTest {
    private static final long KVMIO = 0xAE;
    private static final long NONE = 0;
    private static final long WRITE = 1;
    private static final long READ = 2;

    /** {@code _IOC(dir, type, nr, size) = dir << 30 | size << 16 | type << 8 | nr} (spec §6.3). */
    private static long ioc(long dir, long nr, long size) {
        return dir << 30 | size << 16 | KVMIO << 8 | nr;
    }

    private static long io(long nr) {
        return ioc(NONE, nr, 0);
    }

    private static long ior(long nr, MemoryLayout layout) {
        return ioc(READ, nr, layout.byteSize());
    }

    private static long iow(long nr, MemoryLayout layout) {
        return ioc(WRITE, nr, layout.byteSize());
    }

    private static long iowr(long nr, MemoryLayout layout) {
        return ioc(READ | WRITE, nr, layout.byteSize());
    }

    static Stream<Arguments> ioctls() {
        return Stream.of(
                // name, our constant, recomputed from the layout, the spec §6.3 / gcc table value
                Arguments.of("KVM_GET_API_VERSION", KvmIoctls.GET_API_VERSION, io(0x00), 0x0000AE00L),
                Arguments.of("KVM_CREATE_VM", KvmIoctls.CREATE_VM, io(0x01), 0x0000AE01L),
                Arguments.of("KVM_CHECK_EXTENSION", KvmIoctls.CHECK_EXTENSION, io(0x03), 0x0000AE03L),
                Arguments.of("KVM_GET_VCPU_MMAP_SIZE", KvmIoctls.GET_VCPU_MMAP_SIZE, io(0x04), 0x0000AE04L),
                Arguments.of("KVM_CREATE_VCPU", KvmIoctls.CREATE_VCPU, io(0x41), 0x0000AE41L),
                Arguments.of("KVM_GET_DIRTY_LOG", KvmIoctls.GET_DIRTY_LOG,
                        iow(0x42, KvmLayouts.DIRTY_LOG), 0x4010AE42L),
                Arguments.of("KVM_SET_USER_MEMORY_REGION", KvmIoctls.SET_USER_MEMORY_REGION,
                        iow(0x46, KvmLayouts.USERSPACE_MEMORY_REGION), 0x4020AE46L),
                Arguments.of("KVM_SET_USER_MEMORY_REGION2", KvmIoctls.SET_USER_MEMORY_REGION2,
                        iow(0x49, KvmLayouts.USERSPACE_MEMORY_REGION2), 0x40A0AE49L),
                Arguments.of("KVM_RUN", KvmIoctls.RUN, io(0x80), 0x0000AE80L),
                Arguments.of("KVM_GET_REGS", KvmIoctls.GET_REGS, ior(0x81, KvmLayouts.REGS), 0x8090AE81L),
                Arguments.of("KVM_SET_REGS", KvmIoctls.SET_REGS, iow(0x82, KvmLayouts.REGS), 0x4090AE82L),
                Arguments.of("KVM_GET_SREGS", KvmIoctls.GET_SREGS, ior(0x83, KvmLayouts.SREGS), 0x8138AE83L),
                Arguments.of("KVM_SET_SREGS", KvmIoctls.SET_SREGS, iow(0x84, KvmLayouts.SREGS), 0x4138AE84L),
                Arguments.of("KVM_ENABLE_CAP", KvmIoctls.ENABLE_CAP, iow(0xa3, KvmLayouts.ENABLE_CAP), 0x4068AEA3L),
                Arguments.of("KVM_CLEAR_DIRTY_LOG", KvmIoctls.CLEAR_DIRTY_LOG,
                        iowr(0xc0, KvmLayouts.CLEAR_DIRTY_LOG), 0xC018AEC0L),
                Arguments.of("KVM_RESET_DIRTY_RINGS", KvmIoctls.RESET_DIRTY_RINGS, io(0xc7), 0x0000AEC7L),
                Arguments.of("KVM_SET_MEMORY_ATTRIBUTES", KvmIoctls.SET_MEMORY_ATTRIBUTES,
                        iow(0xd2, KvmLayouts.MEMORY_ATTRIBUTES), 0x4020AED2L),
                Arguments.of("KVM_CREATE_GUEST_MEMFD", KvmIoctls.CREATE_GUEST_MEMFD,
                        iowr(0xd4, KvmLayouts.CREATE_GUEST_MEMFD), 0xC040AED4L));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ioctls")
    void ioctlNumberMatchesLayoutSizeAndTable(String name, long constant, long recomputed, long table) {
        assertEquals(table, recomputed, name + ": _IOC with our layout's size");
        assertEquals(table, constant, name + ": KvmIoctls constant");
    }

    @Test
    void structureSizesAreTheKernels() {
        assertEquals(32, KvmLayouts.USERSPACE_MEMORY_REGION.byteSize());
        assertEquals(160, KvmLayouts.USERSPACE_MEMORY_REGION2.byteSize());
        assertEquals(16, KvmLayouts.DIRTY_LOG.byteSize());
        assertEquals(24, KvmLayouts.CLEAR_DIRTY_LOG.byteSize());
        assertEquals(64, KvmLayouts.CREATE_GUEST_MEMFD.byteSize());
        assertEquals(32, KvmLayouts.MEMORY_ATTRIBUTES.byteSize());
        assertEquals(104, KvmLayouts.ENABLE_CAP.byteSize());
        assertEquals(16, KvmLayouts.DIRTY_GFN.byteSize());
        assertEquals(144, KvmLayouts.REGS.byteSize());
        assertEquals(24, KvmLayouts.SEGMENT.byteSize());
        assertEquals(16, KvmLayouts.DTABLE.byteSize());
        assertEquals(312, KvmLayouts.SREGS.byteSize());
        assertEquals(256, KvmLayouts.RUN_EXIT.byteSize());
        assertEquals(2352, KvmLayouts.RUN.byteSize());
    }

    @Test
    void memoryRegionOffsets() {
        assertEquals(0, offset(KvmLayouts.USERSPACE_MEMORY_REGION2, "slot"));
        assertEquals(4, offset(KvmLayouts.USERSPACE_MEMORY_REGION2, "flags"));
        assertEquals(8, offset(KvmLayouts.USERSPACE_MEMORY_REGION2, "guest_phys_addr"));
        assertEquals(16, offset(KvmLayouts.USERSPACE_MEMORY_REGION2, "memory_size"));
        assertEquals(24, offset(KvmLayouts.USERSPACE_MEMORY_REGION2, "userspace_addr"));
        assertEquals(32, offset(KvmLayouts.USERSPACE_MEMORY_REGION2, "guest_memfd_offset"));
        assertEquals(40, offset(KvmLayouts.USERSPACE_MEMORY_REGION2, "guest_memfd"));
        assertEquals(48, offset(KvmLayouts.USERSPACE_MEMORY_REGION2, "pad2"));
        assertEquals(24, offset(KvmLayouts.USERSPACE_MEMORY_REGION, "userspace_addr"));
    }

    @Test
    void vmArgumentOffsets() {
        assertEquals(8, offset(KvmLayouts.DIRTY_LOG, "dirty_bitmap"));
        assertEquals(4, offset(KvmLayouts.CLEAR_DIRTY_LOG, "num_pages"));
        assertEquals(8, offset(KvmLayouts.CLEAR_DIRTY_LOG, "first_page"));
        assertEquals(16, offset(KvmLayouts.CLEAR_DIRTY_LOG, "dirty_bitmap"));
        assertEquals(8, offset(KvmLayouts.CREATE_GUEST_MEMFD, "flags"));
        assertEquals(16, offset(KvmLayouts.CREATE_GUEST_MEMFD, "reserved"));
        assertEquals(16, offset(KvmLayouts.MEMORY_ATTRIBUTES, "attributes"));
        assertEquals(24, offset(KvmLayouts.MEMORY_ATTRIBUTES, "flags"));
        assertEquals(8, offset(KvmLayouts.ENABLE_CAP, "args"));
        assertEquals(40, offset(KvmLayouts.ENABLE_CAP, "pad"));
        assertEquals(4, offset(KvmLayouts.DIRTY_GFN, "slot"));
        assertEquals(8, offset(KvmLayouts.DIRTY_GFN, "offset"));
    }

    @Test
    void vcpuStructureOffsets() {
        assertEquals(32, offset(KvmLayouts.REGS, "rsi"));
        assertEquals(40, offset(KvmLayouts.REGS, "rdi"));
        assertEquals(128, offset(KvmLayouts.REGS, "rip"));
        assertEquals(136, offset(KvmLayouts.REGS, "rflags"));
        assertEquals(120, offset(KvmLayouts.SREGS, "ss"));
        assertEquals(144, offset(KvmLayouts.SREGS, "tr"));
        assertEquals(192, offset(KvmLayouts.SREGS, "gdt"));
        assertEquals(208, offset(KvmLayouts.SREGS, "idt"));
        assertEquals(224, offset(KvmLayouts.SREGS, "cr0"));
        assertEquals(240, offset(KvmLayouts.SREGS, "cr3"));
        assertEquals(248, offset(KvmLayouts.SREGS, "cr4"));
        assertEquals(264, offset(KvmLayouts.SREGS, "efer"));
        assertEquals(280, offset(KvmLayouts.SREGS, "interrupt_bitmap"));
        assertEquals(12, offset(KvmLayouts.SEGMENT, "selector"));
        assertEquals(19, offset(KvmLayouts.SEGMENT, "l"));
        assertEquals(22, offset(KvmLayouts.SEGMENT, "unusable"));
        assertEquals(8, offset(KvmLayouts.DTABLE, "limit"));
    }

    @Test
    void kvmRunOffsets() {
        assertEquals(1, offset(KvmLayouts.RUN, "immediate_exit"));
        assertEquals(8, offset(KvmLayouts.RUN, "exit_reason"));
        assertEquals(32, offset(KvmLayouts.RUN, "exit", "mmio", "phys_addr"));
        assertEquals(40, offset(KvmLayouts.RUN, "exit", "mmio", "data"));
        assertEquals(48, offset(KvmLayouts.RUN, "exit", "mmio", "len"));
        assertEquals(52, offset(KvmLayouts.RUN, "exit", "mmio", "is_write"));
        assertEquals(32, offset(KvmLayouts.RUN, "exit", "memory_fault", "flags"));
        assertEquals(40, offset(KvmLayouts.RUN, "exit", "memory_fault", "gpa"));
        assertEquals(48, offset(KvmLayouts.RUN, "exit", "memory_fault", "size"));
        assertEquals(288, offset(KvmLayouts.RUN, "kvm_valid_regs"));
        assertEquals(304, offset(KvmLayouts.RUN, "s"));
    }
}
