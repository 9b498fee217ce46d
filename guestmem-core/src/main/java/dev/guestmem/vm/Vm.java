package dev.guestmem.vm;

import dev.guestmem.host.HostMemory;
import dev.guestmem.mmu.VmStats;
import java.util.Optional;

/**
 * A virtual machine's guest-memory API, shaped like the KVM ioctls: methods return 0 or a positive
 * Linux errno ({@link dev.guestmem.Errno}); methods that return an fd return it or {@code -errno}.
 * The engine implements it in Java; a real {@code /dev/kvm} backend can implement it too.
 */
public interface Vm extends AutoCloseable {
    /** The VM type it was created with. */
    VmType type();

    /** The host address space whose memory backs the memslots. */
    HostMemory host();

    /** {@code KVM_CHECK_EXTENSION} on the VM fd. */
    long checkExtension(int capability);

    /** {@code KVM_SET_USER_MEMORY_REGION}. */
    int setUserMemoryRegion(int slot, int flags, long guestPhysAddr, long memorySize, long userspaceAddr);

    /** {@code KVM_SET_USER_MEMORY_REGION2}; {@code guestMemfd} is an fd from {@link #createGuestMemfd}. */
    int setUserMemoryRegion2(int slot, int flags, long guestPhysAddr, long memorySize, long userspaceAddr,
            int guestMemfd, long guestMemfdOffset);

    /** {@code KVM_CREATE_GUEST_MEMFD}: a new fd, or {@code -errno}. */
    int createGuestMemfd(long size, long flags);

    /**
     * {@code fallocate(2)} on guest_memfd {@code fd}; mode bits 1 {@code KEEP_SIZE}, 2
     * {@code PUNCH_HOLE} (spec §5.2): 0 or errno.
     */
    int fallocate(int fd, int mode, long offset, long length);

    /** {@code fstat(2)} on guest_memfd {@code fd}: its size in bytes, or {@code -errno}. */
    long fstat(int fd);

    /** {@code close(2)} of guest_memfd {@code fd}: 0 or errno. Its host mappings stay valid, as in Linux. */
    int close(int fd);

    /**
     * {@code mmap(NULL, size, PROT_READ|PROT_WRITE, shared ? MAP_SHARED : MAP_PRIVATE, fd, 0)} of
     * guest_memfd {@code fd} into {@link #host()}: the hva, or {@code -errno} ({@code ENODEV} without
     * {@code GUEST_MEMFD_FLAG_MMAP}, {@code EINVAL} for a private mapping). Host accesses the kernel
     * would answer with SIGBUS (past the end of the file, private memory) raise
     * {@link dev.guestmem.host.HostFault}.
     */
    long mmap(int fd, long size, boolean shared);

    /** {@code KVM_SET_MEMORY_ATTRIBUTES} (spec §5.7): 0 or errno. */
    int setMemoryAttributes(long gpa, long size, long attributes, long flags);

    /** The vCPU with this id, created on first use. */
    Vcpu vcpu(int id);

    /** A snapshot of the user-visible state of a slot ({@code slot} = as_id &lt;&lt; 16 | id). */
    Optional<SlotInfo> slot(int slot);

    /** The generation of the active memslot set of {@code asId}. */
    long memslotGeneration(int asId);

    /** The VM's MMU statistics and the sum of its vCPUs', if the backend keeps any. */
    default Optional<VmStats> stats() {
        return Optional.empty();
    }

    /** Destroys the VM; host mappings stay with the host. */
    @Override
    void close();
}
