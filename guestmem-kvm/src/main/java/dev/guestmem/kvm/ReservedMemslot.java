package dev.guestmem.kvm;

import dev.guestmem.Errno;
import java.lang.foreign.MemorySegment;

/**
 * The reserved memslot of one VM ({@link ReservedLayout}): private host memory holding the
 * {@link GuestImage}, registered with KVM the first time a guest access needs it, so that a trace that
 * never touches guest memory sees no slot it did not create. The memory is this object's own mapping,
 * not one of the trace's {@link dev.guestmem.host.HostMemory}, so host operations of a trace can never
 * reach it. Thread-safe.
 */
final class ReservedMemslot implements AutoCloseable {
    private final KvmVmFd vm;
    /** Guarded by this. 0 until mapped. */
    private long hva;
    /** Guarded by this. */
    private boolean installed;

    ReservedMemslot(KvmVmFd vm) {
        this.vm = vm;
    }

    /**
     * Makes sure the slot exists.
     *
     * @throws KvmException if the host memory cannot be mapped or KVM refuses the slot (for example a
     *                      slot of the caller already covers the reserved range: {@code EEXIST})
     */
    @SuppressWarnings("restricted") // our own fresh mapping of exactly SIZE bytes
    synchronized void ensureInstalled() {
        if (installed) {
            return;
        }
        if (hva == 0) {
            long mapped = Syscalls.mmap(ReservedLayout.SIZE, Syscalls.PROT_READ | Syscalls.PROT_WRITE,
                    Syscalls.MAP_PRIVATE | Syscalls.MAP_ANONYMOUS | Syscalls.MAP_NORESERVE, -1, 0);
            if (mapped < 0) {
                throw new KvmException("cannot map the reserved memslot's memory: " + Errno.name((int) -mapped));
            }
            hva = mapped;
            GuestImage.write(MemorySegment.ofAddress(hva).reinterpret(ReservedLayout.SIZE));
        }
        int errno = vm.setUserMemoryRegion(ReservedLayout.SLOT, 0, ReservedLayout.BASE, ReservedLayout.SIZE, hva);
        if (errno != 0) {
            throw new KvmException(String.format("cannot install reserved memslot %d at 0x%X (size 0x%X): %s;"
                    + " slot %d and 0x%X-0x%X are reserved for the guest code", ReservedLayout.SLOT,
                    ReservedLayout.BASE, ReservedLayout.SIZE, Errno.name(errno), ReservedLayout.SLOT,
                    ReservedLayout.BASE, ReservedLayout.BASE + ReservedLayout.SIZE - 1));
        }
        installed = true;
    }

    /** Unmaps the memory; call after the VM fd is closed (KVM would survive it anyway, via its notifier). */
    @Override
    public synchronized void close() {
        if (hva != 0) {
            Syscalls.munmap(hva, ReservedLayout.SIZE);
            hva = 0;
        }
        installed = false;
    }
}
