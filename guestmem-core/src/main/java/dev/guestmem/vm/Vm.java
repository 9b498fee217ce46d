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

    /**
     * {@code KVM_ENABLE_CAP(capability)} with {@code args[0] = arg0} and flags 0: 0 or errno. Dirty logging
     * knows {@code MANUAL_DIRTY_LOG_PROTECT2} (spec §4.5) and {@code DIRTY_LOG_RING(_ACQ_REL)} (§4.6,
     * before any vCPU exists).
     */
    int enableCap(int capability, long arg0);

    /**
     * {@code KVM_GET_DIRTY_LOG} of {@code slot} ({@code as_id << 16 | id}) into {@code bitmap}: page
     * {@code i} of the slot is bit {@code i % 64} of word {@code i / 64}. Without manual protection the
     * returned bits are cleared and their pages write-protected again, and TLBs are flushed before the call
     * returns; with it, the live bitmap is copied as it is (spec §4.3). The kernel writes
     * {@code ALIGN(npages, 64) / 8} bytes; a shorter array receives the words that fit.
     *
     * @return 0, {@code ENXIO} (dirty rings without bitmaps), {@code EINVAL} (address space or id out of
     *         range) or {@code ENOENT} (no such slot, or it does not log dirty pages)
     */
    int getDirtyLog(int slot, long[] bitmap);

    /**
     * {@code KVM_CLEAR_DIRTY_LOG} of pages {@code [firstPage, firstPage + numPages)} ({@code numPages} is
     * the u32 {@code num_pages}): {@code bitmap} holds the window's bits, bit 0 of word 0 being page
     * {@code firstPage}; only pages also dirty in the slot are cleared and write-protected (spec §4.4).
     *
     * @return 0, {@code ENXIO}, {@code EINVAL} (id, a first page that is not a multiple of 64, a window
     *         outside the slot, an unaligned length that stops short of the slot's end), {@code ENOENT}, or
     *         {@code EFAULT} (the bitmap is shorter than the window)
     */
    int clearDirtyLog(int slot, long firstPage, int numPages, long[] bitmap);

    /**
     * {@code KVM_RESET_DIRTY_RINGS}: frees every harvested ring entry, write-protecting its page again
     * (spec §4.6).
     *
     * @return the number of entries freed, or {@code -EINVAL} without dirty rings
     */
    int resetDirtyRings();

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
