package dev.guestmem.vm;

import dev.guestmem.host.HostMemory;
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

    /** The vCPU with this id, created on first use. */
    Vcpu vcpu(int id);

    /** A snapshot of the user-visible state of a slot ({@code slot} = as_id &lt;&lt; 16 | id). */
    Optional<SlotInfo> slot(int slot);

    /** The generation of the active memslot set of {@code asId}. */
    long memslotGeneration(int asId);

    /** Destroys the VM; host mappings stay with the host. */
    @Override
    void close();
}
