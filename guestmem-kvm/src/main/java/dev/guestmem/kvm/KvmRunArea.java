package dev.guestmem.kvm;

import static dev.guestmem.kvm.KvmLayouts.offset;

import dev.guestmem.Errno;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A vCPU's {@code struct kvm_run}, mapped from its fd: the exit the last {@code KVM_RUN} reported and
 * the fields userspace writes back (MMIO read data, {@code immediate_exit}). Used by the vCPU's thread
 * only.
 */
final class KvmRunArea implements AutoCloseable {
    private static final long IMMEDIATE_EXIT = offset(KvmLayouts.RUN, "immediate_exit");
    private static final long EXIT_REASON = offset(KvmLayouts.RUN, "exit_reason");
    private static final long MMIO_PHYS_ADDR = offset(KvmLayouts.RUN, "exit", "mmio", "phys_addr");
    private static final long MMIO_DATA = offset(KvmLayouts.RUN, "exit", "mmio", "data");
    private static final long MMIO_LEN = offset(KvmLayouts.RUN, "exit", "mmio", "len");
    private static final long MMIO_IS_WRITE = offset(KvmLayouts.RUN, "exit", "mmio", "is_write");
    private static final long FAULT_FLAGS = offset(KvmLayouts.RUN, "exit", "memory_fault", "flags");
    private static final long FAULT_GPA = offset(KvmLayouts.RUN, "exit", "memory_fault", "gpa");
    private static final long FAULT_SIZE = offset(KvmLayouts.RUN, "exit", "memory_fault", "size");

    private final long address;
    private final long length;
    private final MemorySegment run;

    @SuppressWarnings("restricted") // a mapping of exactly this length, owned by this object until close()
    private KvmRunArea(long address, long length) {
        this.address = address;
        this.length = length;
        this.run = MemorySegment.ofAddress(address).reinterpret(length);
    }

    /** Maps {@code length} bytes (KVM_GET_VCPU_MMAP_SIZE) of {@code vcpuFd}, shared, read-write. */
    static KvmRunArea map(int vcpuFd, int length) {
        long address = Syscalls.mmap(length, Syscalls.PROT_READ | Syscalls.PROT_WRITE, Syscalls.MAP_SHARED, vcpuFd, 0);
        if (address < 0) {
            throw new KvmException("cannot mmap the vCPU's kvm_run: " + Errno.name((int) -address));
        }
        return new KvmRunArea(address, length);
    }

    int exitReason() {
        return run.get(ValueLayout.JAVA_INT, EXIT_REASON);
    }

    /**
     * Overwrites the exit reason before an entry: KVM does not reset it when {@code KVM_RUN} fails, so
     * without this a stale {@code KVM_EXIT_MEMORY_FAULT} could be taken for the answer to a plain
     * {@code EFAULT}.
     */
    void setExitReason(int reason) {
        run.set(ValueLayout.JAVA_INT, EXIT_REASON, reason);
    }

    void setImmediateExit(boolean immediate) {
        run.set(ValueLayout.JAVA_BYTE, IMMEDIATE_EXIT, (byte) (immediate ? 1 : 0));
    }

    long mmioPhysAddr() {
        return run.get(ValueLayout.JAVA_LONG, MMIO_PHYS_ADDR);
    }

    int mmioLength() {
        return run.get(ValueLayout.JAVA_INT, MMIO_LEN);
    }

    boolean mmioIsWrite() {
        return run.get(ValueLayout.JAVA_BYTE, MMIO_IS_WRITE) != 0;
    }

    /** The first 8 bytes of {@code mmio.data}, little-endian. */
    long mmioData() {
        return run.get(ValueLayout.JAVA_LONG_UNALIGNED, MMIO_DATA);
    }

    /** Answers an MMIO read with {@code value}, delivered to the guest on the next entry. */
    void setMmioData(long value) {
        run.set(ValueLayout.JAVA_LONG_UNALIGNED, MMIO_DATA, value);
    }

    long memoryFaultFlags() {
        return run.get(ValueLayout.JAVA_LONG, FAULT_FLAGS);
    }

    long memoryFaultGpa() {
        return run.get(ValueLayout.JAVA_LONG, FAULT_GPA);
    }

    long memoryFaultSize() {
        return run.get(ValueLayout.JAVA_LONG, FAULT_SIZE);
    }

    @Override
    public void close() {
        Syscalls.munmap(address, length);
    }
}
