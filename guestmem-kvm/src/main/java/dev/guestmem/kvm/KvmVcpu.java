package dev.guestmem.kvm;

import dev.guestmem.Errno;
import dev.guestmem.vm.Access;
import dev.guestmem.vm.Taken;
import dev.guestmem.vm.Vcpu;
import java.util.Locale;

/**
 * A real KVM vCPU performing guest accesses by running a built-in stub ({@link GuestImage}) at CPL3 in
 * long mode ({@link #fillStrided} runs a store loop the same way). One access is one stub run: {@code KVM_SET_REGS} (entry point, gpa in rdi, value in rsi,
 * doorbell in rbx), then {@code KVM_RUN} until the doorbell store exits; the exits on the way are the
 * outcome:
 * <ul>
 *   <li>an MMIO exit at the access's own gpa: {@link Access.Mmio}; a read is answered with 0 and the
 *       stub resumed, so it still ends at the doorbell;</li>
 *   <li>the doorbell alone: the access completed, {@link Access.Stored} or {@link Access.Value} of rax;</li>
 *   <li>{@code KVM_RUN} failing with {@code EFAULT}: {@link Access.MemoryFault} if the kernel filled in
 *       {@code KVM_EXIT_MEMORY_FAULT}, else {@link Access.Efault};</li>
 *   <li>anything else: a {@link KvmException} naming the exit and the registers, never a result.</li>
 * </ul>
 * The kernel vCPU is created, and the reserved memslot installed, on the first access: until then the
 * VM has no vCPU (so, for example, a dirty ring can still be enabled). Accesses serialize on the vCPU.
 */
public final class KvmVcpu implements Vcpu, AutoCloseable {
    /** KVM_RUN may be interrupted by a signal meant for the JVM; re-entering is harmless. */
    private static final int MAX_INTERRUPTED_ENTRIES = 1000;
    private static final int ACCESS_SIZE = Long.BYTES;

    private final int id;
    private final KvmVm vm;
    /** Guarded by this: -1 until created. */
    private int fd = -1;
    /** Guarded by this. */
    private KvmRunArea run;

    KvmVcpu(KvmVm vm, int id) {
        this.vm = vm;
        this.id = id;
    }

    @Override
    public int id() {
        return id;
    }

    @Override
    public synchronized Access read64(long gpa) {
        return access(gpa, false, 0);
    }

    @Override
    public synchronized Access write64(long gpa, long value) {
        return access(gpa, true, value);
    }

    /**
     * Runs the fill loop stub: one {@code KVM_RUN} for the whole loop. The first store that exits as MMIO
     * is completed with {@code immediate_exit}, which drops it and stops the loop there.
     */
    @Override
    public synchronized Access fillStrided(long gpa, long count, long stride, long value) {
        if (count <= 0) {
            return Access.STORED;
        }
        requireLoop(gpa, count, stride);
        StubEnd end = runStub(Stub.FILL, gpa, value, count, stride);
        return end.exit() != null ? end.exit() : Access.STORED;
    }

    /** Runs the take loop stub: one {@code KVM_RUN}; it stops at its first exit, like {@link #fillStrided}. */
    @Override
    public synchronized Taken takeStrided(long gpa, long count, long stride, long expected) {
        if (count <= 0) {
            return new Taken(0, null);
        }
        requireLoop(gpa, count, stride);
        StubEnd end = runStub(Stub.TAKE, gpa, expected, count, stride);
        if (end.exit() != null) {
            return new Taken(Long.divideUnsigned(end.exitGpa() - gpa, stride), end.exit());
        }
        return new Taken(count - end.doorbellData(), null); // the doorbell carries the words left
    }

    private Access access(long gpa, boolean write, long value) {
        requireAccessible(gpa);
        StubEnd end = runStub(write ? Stub.STORE : Stub.LOAD, gpa, value, 1, ACCESS_SIZE);
        if (end.exit() != null) {
            return end.exit();
        }
        return write ? Access.STORED : new Access.Value(GeneralRegisters.get(fd, "rax"));
    }

    /** The stubs of {@link GuestImage}; a loop stops at the first of its accesses that exits. */
    private enum Stub {
        STORE(ReservedLayout.STORE_ENTRY, false),
        LOAD(ReservedLayout.LOAD_ENTRY, false),
        FILL(ReservedLayout.FILL_ENTRY, true),
        TAKE(ReservedLayout.TAKE_ENTRY, true);

        final long entry;
        final boolean loop;

        Stub(long entry, boolean loop) {
            this.entry = entry;
            this.loop = loop;
        }

        /** Whether an MMIO exit in this direction can come from one of the stub's own accesses. */
        boolean makes(boolean mmioWrite) {
            return switch (this) {
                case STORE, FILL -> mmioWrite;
                case LOAD -> !mmioWrite;
                case TAKE -> true;
            };
        }
    }

    /**
     * How a stub run ended: at its doorbell ({@code exit} null, {@code doorbellData} what it stored), or at
     * the exit of the access to {@code exitGpa}.
     */
    private record StubEnd(Access exit, long exitGpa, long doorbellData) {
    }

    /**
     * Runs {@code stub} over the {@code count} words {@code stride} bytes apart from {@code gpa} (rdi, with
     * rsi = {@code value}, rcx = count, rdx = stride) until its doorbell, or for a loop until the first of
     * its accesses that exits as MMIO. A single access's MMIO exit is answered (a read with 0) and the stub
     * runs on to its doorbell.
     */
    private StubEnd runStub(Stub stub, long gpa, long value, long count, long stride) {
        start();
        GeneralRegisters.startStub(fd, stub.entry, gpa, value, ReservedLayout.DOORBELL, count, stride);
        Access exited = null;
        long exitedAt = 0;
        while (true) {
            int rc = enter();
            if (rc == -Errno.EFAULT) {
                long at = stub.loop ? GeneralRegisters.get(fd, "rdi") : gpa;
                return new StubEnd(run.exitReason() == KvmExits.MEMORY_FAULT
                        ? new Access.MemoryFault(run.memoryFaultGpa(), run.memoryFaultSize(),
                                (run.memoryFaultFlags() & KvmExits.MEMORY_EXIT_FLAG_PRIVATE) != 0)
                        : new Access.Efault(at), at, 0);
            }
            if (rc < 0) {
                throw unexpected("KVM_RUN failed with " + Errno.name(-rc), gpa, stub);
            }
            if (run.exitReason() != KvmExits.MMIO || run.mmioLength() != ACCESS_SIZE) {
                throw unexpected("unexpected exit", gpa, stub);
            }
            long address = run.mmioPhysAddr();
            if (address == ReservedLayout.DOORBELL && run.mmioIsWrite()) {
                long data = run.mmioData();
                completeMmio(gpa, stub);
                return new StubEnd(exited, exitedAt, data);
            }
            long index = Long.divideUnsigned(address - gpa, stride);
            if (Long.remainderUnsigned(address - gpa, stride) != 0 || Long.compareUnsigned(index, count) >= 0
                    || !stub.makes(run.mmioIsWrite()) || exited != null) {
                throw unexpected("unexpected MMIO exit", gpa, stub);
            }
            exited = new Access.Mmio(address, run.mmioIsWrite());
            exitedAt = address;
            if (!run.mmioIsWrite()) {
                run.setMmioData(0); // trace-format.md: an MMIO read completes with 0
            }
            if (stub.loop) {
                completeMmio(gpa, stub); // the loop stops at its first exit
                return new StubEnd(exited, exitedAt, 0);
            }
        }
    }

    /** A loop's words must all be accessible and must not straddle the reserved range. */
    private static void requireLoop(long gpa, long count, long stride) {
        long last = gpa + (count - 1) * stride;
        if (stride <= 0 || (stride & (ACCESS_SIZE - 1)) != 0 || (last - gpa) / stride != count - 1) {
            throw new IllegalArgumentException("a loop over " + count + " words " + stride + " bytes apart from 0x"
                    + Long.toHexString(gpa) + " is not a forward, 8-byte aligned loop");
        }
        requireAccessible(gpa);
        requireAccessible(last);
        if (Long.compareUnsigned(gpa, ReservedLayout.BASE + ReservedLayout.SIZE) < 0
                && Long.compareUnsigned(last, ReservedLayout.DOORBELL) >= 0) {
            throw new IllegalArgumentException("a loop from 0x" + Long.toHexString(gpa) + " to 0x"
                    + Long.toHexString(last) + " crosses the KVM backend's reserved range");
        }
    }

    /**
     * Guest accesses are 8-byte aligned, inside the identity map and outside the reserved range; anything
     * else would not be the access the caller asked for.
     */
    private static void requireAccessible(long gpa) {
        if ((gpa & (ACCESS_SIZE - 1)) != 0) {
            throw new IllegalArgumentException("guest access not 8-byte aligned: 0x" + Long.toHexString(gpa));
        }
        if (Long.compareUnsigned(gpa, ReservedLayout.IDENTITY_MAP_END) >= 0 || ReservedLayout.isReserved(gpa)) {
            throw new IllegalArgumentException(String.format("gpa 0x%X is outside the KVM backend's reach: accesses"
                    + " must lie below 0x%X and outside the reserved 0x%X-0x%X and doorbell 0x%X", gpa,
                    ReservedLayout.IDENTITY_MAP_END, ReservedLayout.BASE, ReservedLayout.BASE + ReservedLayout.SIZE - 1,
                    ReservedLayout.DOORBELL));
        }
    }

    /** Creates the kernel vCPU and its long-mode state on first use. */
    private void start() {
        if (fd >= 0) {
            return;
        }
        if (vm.isClosed()) {
            throw new IllegalStateException("VM is closed");
        }
        vm.reservedMemslot().ensureInstalled();
        int vcpuFd = KvmException.check(vm.vmFd().createVcpu(id), "KVM_CREATE_VCPU " + id);
        try {
            run = KvmRunArea.map(vcpuFd, vm.vcpuMmapSize());
            LongModeSetup.apply(vcpuFd);
        } catch (RuntimeException e) {
            if (run != null) {
                run.close();
                run = null;
            }
            Syscalls.close(vcpuFd);
            throw e;
        }
        fd = vcpuFd;
    }

    /** One {@code KVM_RUN}, retried while a signal interrupts it: 0 or {@code -errno}. */
    private int enter() {
        for (int attempt = 0; attempt < MAX_INTERRUPTED_ENTRIES; attempt++) {
            run.setExitReason(KvmExits.UNKNOWN);
            int rc = Syscalls.ioctl(fd, KvmIoctls.RUN, 0L);
            if (rc != -Errno.EINTR) {
                return rc;
            }
        }
        return -Errno.EINTR;
    }

    /**
     * An MMIO exit is complete only once userspace re-enters {@code KVM_RUN} (api.rst, KVM_EXIT_MMIO):
     * re-enter with {@code immediate_exit} so KVM finishes the store and returns {@code EINTR} without
     * running the guest. Only then may the next access replace the registers.
     */
    private void completeMmio(long gpa, Stub stub) {
        run.setImmediateExit(true);
        try {
            int rc = Syscalls.ioctl(fd, KvmIoctls.RUN, 0L);
            if (rc != -Errno.EINTR) {
                throw unexpected("completing an MMIO exit returned " + (rc < 0 ? Errno.name(-rc) : rc), gpa, stub);
            }
        } finally {
            run.setImmediateExit(false);
        }
    }

    private KvmException unexpected(String what, long gpa, Stub stub) {
        int reason = run.exitReason();
        StringBuilder message = new StringBuilder(String.format("vCPU %d, guest %s of gpa 0x%X: %s, exit %s",
                id, stub.name().toLowerCase(Locale.ROOT), gpa, what, KvmExits.describe(reason)));
        if (reason == KvmExits.MMIO) {
            message.append(String.format(" (phys_addr 0x%X, len %d, %s)", run.mmioPhysAddr(), run.mmioLength(),
                    run.mmioIsWrite() ? "write" : "read"));
        }
        message.append("; ").append(GeneralRegisters.describe(fd));
        return new KvmException(message.toString());
    }

    /** Unmaps {@code kvm_run} and closes the vCPU fd. */
    @Override
    public synchronized void close() {
        if (run != null) {
            run.close();
            run = null;
        }
        if (fd >= 0) {
            Syscalls.close(fd);
            fd = -1;
        }
    }
}
