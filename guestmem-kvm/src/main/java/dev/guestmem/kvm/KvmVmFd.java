package dev.guestmem.kvm;

import static dev.guestmem.kvm.KvmLayouts.offset;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

/**
 * A KVM VM fd and the marshalling of its ioctls: each method fills the uAPI structure
 * ({@link KvmLayouts}), issues the ioctl and returns 0 or a positive errno, or for calls that create
 * something, the new fd or {@code -errno}. No state, no checks of its own: the kernel answers.
 */
final class KvmVmFd implements AutoCloseable {
    private static final StructLayout REGION = KvmLayouts.USERSPACE_MEMORY_REGION2;

    private final int fd;

    KvmVmFd(int fd) {
        this.fd = fd;
    }

    int fd() {
        return fd;
    }

    /** {@code KVM_CHECK_EXTENSION} on this VM: the kernel's answer, or {@code -errno}. */
    long checkExtension(int capability) {
        return Syscalls.ioctl(fd, KvmIoctls.CHECK_EXTENSION, Integer.toUnsignedLong(capability));
    }

    /** {@code KVM_SET_USER_MEMORY_REGION}: 0 or errno. */
    int setUserMemoryRegion(int slot, int flags, long guestPhysAddr, long memorySize, long userspaceAddr) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment region = arena.allocate(KvmLayouts.USERSPACE_MEMORY_REGION);
            fillRegion(region, slot, flags, guestPhysAddr, memorySize, userspaceAddr);
            return status(Syscalls.ioctl(fd, KvmIoctls.SET_USER_MEMORY_REGION, region));
        }
    }

    /** {@code KVM_SET_USER_MEMORY_REGION2}: 0 or errno. */
    int setUserMemoryRegion2(int slot, int flags, long guestPhysAddr, long memorySize, long userspaceAddr,
            int guestMemfd, long guestMemfdOffset) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment region = arena.allocate(REGION);
            fillRegion(region, slot, flags, guestPhysAddr, memorySize, userspaceAddr);
            region.set(ValueLayout.JAVA_LONG, offset(REGION, "guest_memfd_offset"), guestMemfdOffset);
            region.set(ValueLayout.JAVA_INT, offset(REGION, "guest_memfd"), guestMemfd);
            return status(Syscalls.ioctl(fd, KvmIoctls.SET_USER_MEMORY_REGION2, region));
        }
    }

    /** The fields v1 and v2 share; {@code region} is zeroed, so padding stays zero. */
    private static void fillRegion(MemorySegment region, int slot, int flags, long guestPhysAddr, long memorySize,
            long userspaceAddr) {
        region.set(ValueLayout.JAVA_INT, offset(REGION, "slot"), slot);
        region.set(ValueLayout.JAVA_INT, offset(REGION, "flags"), flags);
        region.set(ValueLayout.JAVA_LONG, offset(REGION, "guest_phys_addr"), guestPhysAddr);
        region.set(ValueLayout.JAVA_LONG, offset(REGION, "memory_size"), memorySize);
        region.set(ValueLayout.JAVA_LONG, offset(REGION, "userspace_addr"), userspaceAddr);
    }

    /** {@code KVM_CREATE_GUEST_MEMFD}: an fd or {@code -errno}. */
    int createGuestMemfd(long size, long flags) {
        StructLayout layout = KvmLayouts.CREATE_GUEST_MEMFD;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment args = arena.allocate(layout);
            args.set(ValueLayout.JAVA_LONG, offset(layout, "size"), size);
            args.set(ValueLayout.JAVA_LONG, offset(layout, "flags"), flags);
            return Syscalls.ioctl(fd, KvmIoctls.CREATE_GUEST_MEMFD, args);
        }
    }

    /** {@code KVM_GET_DIRTY_LOG} into {@code bitmap}, which must hold the slot's whole bitmap: 0 or errno. */
    int getDirtyLog(int slot, MemorySegment bitmap) {
        StructLayout layout = KvmLayouts.DIRTY_LOG;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment args = arena.allocate(layout);
            args.set(ValueLayout.JAVA_INT, offset(layout, "slot"), slot);
            args.set(ValueLayout.JAVA_LONG, offset(layout, "dirty_bitmap"), bitmap.address());
            return status(Syscalls.ioctl(fd, KvmIoctls.GET_DIRTY_LOG, args));
        }
    }

    /** {@code KVM_CLEAR_DIRTY_LOG} with the caller's {@code bitmap} of the window: 0 or errno. */
    int clearDirtyLog(int slot, long firstPage, int numPages, MemorySegment bitmap) {
        StructLayout layout = KvmLayouts.CLEAR_DIRTY_LOG;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment args = arena.allocate(layout);
            args.set(ValueLayout.JAVA_INT, offset(layout, "slot"), slot);
            args.set(ValueLayout.JAVA_INT, offset(layout, "num_pages"), numPages);
            args.set(ValueLayout.JAVA_LONG, offset(layout, "first_page"), firstPage);
            args.set(ValueLayout.JAVA_LONG, offset(layout, "dirty_bitmap"), bitmap.address());
            return status(Syscalls.ioctl(fd, KvmIoctls.CLEAR_DIRTY_LOG, args));
        }
    }

    /** {@code KVM_ENABLE_CAP} with {@code flags = 0} and {@code args[0] = arg0}: 0 or errno. */
    int enableCap(int capability, long arg0) {
        StructLayout layout = KvmLayouts.ENABLE_CAP;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment args = arena.allocate(layout);
            args.set(ValueLayout.JAVA_INT, offset(layout, "cap"), capability);
            args.set(ValueLayout.JAVA_LONG, offset(layout, "args"), arg0);
            return status(Syscalls.ioctl(fd, KvmIoctls.ENABLE_CAP, args));
        }
    }

    /** {@code KVM_SET_MEMORY_ATTRIBUTES}: 0 or errno. */
    int setMemoryAttributes(long address, long size, long attributes, long flags) {
        StructLayout layout = KvmLayouts.MEMORY_ATTRIBUTES;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment args = arena.allocate(layout);
            args.set(ValueLayout.JAVA_LONG, offset(layout, "address"), address);
            args.set(ValueLayout.JAVA_LONG, offset(layout, "size"), size);
            args.set(ValueLayout.JAVA_LONG, offset(layout, "attributes"), attributes);
            args.set(ValueLayout.JAVA_LONG, offset(layout, "flags"), flags);
            return status(Syscalls.ioctl(fd, KvmIoctls.SET_MEMORY_ATTRIBUTES, args));
        }
    }

    /** {@code KVM_RESET_DIRTY_RINGS}: the number of entries reset, or {@code -errno}. */
    int resetDirtyRings() {
        return Syscalls.ioctl(fd, KvmIoctls.RESET_DIRTY_RINGS, 0L);
    }

    /** {@code KVM_CREATE_VCPU}: a vCPU fd or {@code -errno}. */
    int createVcpu(int id) {
        return Syscalls.ioctl(fd, KvmIoctls.CREATE_VCPU, Integer.toUnsignedLong(id));
    }

    /** 0 for success, else the positive errno of an ioctl result. */
    private static int status(int result) {
        return result < 0 ? -result : 0;
    }

    @Override
    public void close() {
        Syscalls.close(fd);
    }
}
