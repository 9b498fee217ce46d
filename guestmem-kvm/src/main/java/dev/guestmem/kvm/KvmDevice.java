package dev.guestmem.kvm;

import dev.guestmem.Errno;

/** An open {@code /dev/kvm}: the system ioctls, used only while a VM is being set up. */
final class KvmDevice implements AutoCloseable {
    static final String PATH = "/dev/kvm";
    /** {@code KVM_API_VERSION}: the only version the uAPI has had since 2007. */
    static final int API_VERSION = 12;

    private final int fd;

    private KvmDevice(int fd) {
        this.fd = fd;
    }

    /**
     * Opens {@code /dev/kvm} and checks its API version.
     *
     * @throws KvmException naming the path and errno when it cannot be opened, or the wrong version
     */
    static KvmDevice open() {
        int fd = Syscalls.open(PATH, Syscalls.O_RDWR | Syscalls.O_CLOEXEC);
        if (fd < 0) {
            throw new KvmException("cannot open " + PATH + ": " + Errno.name(-fd));
        }
        KvmDevice device = new KvmDevice(fd);
        int version = Syscalls.ioctl(fd, KvmIoctls.GET_API_VERSION, 0L);
        if (version != API_VERSION) {
            device.close();
            throw new KvmException(version < 0
                    ? PATH + " is not the KVM device: KVM_GET_API_VERSION failed with errno " + -version
                    : PATH + " reports KVM_GET_API_VERSION " + version + ", expected " + API_VERSION);
        }
        return device;
    }

    /** {@code KVM_CREATE_VM}: a VM fd or -errno. */
    int createVm(int type) {
        return Syscalls.ioctl(fd, KvmIoctls.CREATE_VM, type);
    }

    /** {@code KVM_GET_VCPU_MMAP_SIZE}: bytes to mmap from a vCPU fd (kvm_run and what follows). */
    int vcpuMmapSize() {
        int size = Syscalls.ioctl(fd, KvmIoctls.GET_VCPU_MMAP_SIZE, 0L);
        if (size < KvmLayouts.RUN.byteSize()) {
            throw new KvmException("KVM_GET_VCPU_MMAP_SIZE returned " + size);
        }
        return size;
    }

    @Override
    public void close() {
        Syscalls.close(fd);
    }
}
