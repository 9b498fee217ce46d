package dev.guestmem.kvm;

/**
 * ioctl request numbers of the KVM uAPI on x86-64, as literal values: the VM and system ones from
 * kvm-memory-spec §6.3, the vCPU ones measured with gcc against {@code linux/kvm.h}. They are written
 * out rather than computed so that {@code KvmIoctlsTest} can recompute each from
 * {@code _IOC(dir, 0xAE, nr, sizeof)} with the sizes of {@link KvmLayouts} and catch a wrong layout or a
 * wrong number. All are {@code unsigned long} in C, hence positive {@code long}s here.
 */
public final class KvmIoctls {
    /** {@code _IO(0xAE, 0x00)}, system: returns {@code KVM_API_VERSION} (12). */
    public static final long GET_API_VERSION = 0x0000AE00L;
    /** {@code _IO(0xAE, 0x01)}, system: argument is the VM type. */
    public static final long CREATE_VM = 0x0000AE01L;
    /** {@code _IO(0xAE, 0x03)}, system or VM: argument is the capability. */
    public static final long CHECK_EXTENSION = 0x0000AE03L;
    /** {@code _IO(0xAE, 0x04)}, system: size of the vCPU fd's mmap area. */
    public static final long GET_VCPU_MMAP_SIZE = 0x0000AE04L;
    /** {@code _IO(0xAE, 0x41)}, VM: argument is the vCPU id. */
    public static final long CREATE_VCPU = 0x0000AE41L;
    /** {@code _IOW(0xAE, 0x42, struct kvm_dirty_log)}, VM. */
    public static final long GET_DIRTY_LOG = 0x4010AE42L;
    /** {@code _IOW(0xAE, 0x46, struct kvm_userspace_memory_region)}, VM. */
    public static final long SET_USER_MEMORY_REGION = 0x4020AE46L;
    /** {@code _IOW(0xAE, 0x49, struct kvm_userspace_memory_region2)}, VM. */
    public static final long SET_USER_MEMORY_REGION2 = 0x40A0AE49L;
    /** {@code _IO(0xAE, 0x80)}, vCPU. */
    public static final long RUN = 0x0000AE80L;
    /** {@code _IOR(0xAE, 0x81, struct kvm_regs)}, vCPU. */
    public static final long GET_REGS = 0x8090AE81L;
    /** {@code _IOW(0xAE, 0x82, struct kvm_regs)}, vCPU. */
    public static final long SET_REGS = 0x4090AE82L;
    /** {@code _IOR(0xAE, 0x83, struct kvm_sregs)}, vCPU. */
    public static final long GET_SREGS = 0x8138AE83L;
    /** {@code _IOW(0xAE, 0x84, struct kvm_sregs)}, vCPU. */
    public static final long SET_SREGS = 0x4138AE84L;
    /** {@code _IOW(0xAE, 0xa3, struct kvm_enable_cap)}, VM. */
    public static final long ENABLE_CAP = 0x4068AEA3L;
    /** {@code _IOWR(0xAE, 0xc0, struct kvm_clear_dirty_log)}, VM. */
    public static final long CLEAR_DIRTY_LOG = 0xC018AEC0L;
    /** {@code _IO(0xAE, 0xc7)}, VM. */
    public static final long RESET_DIRTY_RINGS = 0x0000AEC7L;
    /** {@code _IOW(0xAE, 0xd2, struct kvm_memory_attributes)}, VM. */
    public static final long SET_MEMORY_ATTRIBUTES = 0x4020AED2L;
    /** {@code _IOWR(0xAE, 0xd4, struct kvm_create_guest_memfd)}, VM. */
    public static final long CREATE_GUEST_MEMFD = 0xC040AED4L;

    private KvmIoctls() {
    }
}
