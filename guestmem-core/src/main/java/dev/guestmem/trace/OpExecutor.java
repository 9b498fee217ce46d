package dev.guestmem.trace;

import dev.guestmem.Errno;
import dev.guestmem.dirty.DirtyBitmap;
import dev.guestmem.host.HostFault;
import dev.guestmem.host.HostMemory;
import dev.guestmem.vm.Vm;
import java.util.Optional;

/**
 * Runs one trace operation against a VM and its host address space and formats its result line.
 * Failing calls are results ({@code err ...}); only usage errors and pending operations throw.
 */
final class OpExecutor {
    /** Guest accesses of a trace all run on vCPU 0 (trace-format.md). */
    private static final int VCPU = 0;

    private final Vm vm;
    private final HostMemory host;
    private final ReplayNames names = new ReplayNames();

    OpExecutor(Vm vm, HostMemory host) {
        this.vm = vm;
        this.host = host;
    }

    /** The result line of {@code op}; empty for the {@code vm} line, which only chose the VM type. */
    Optional<String> execute(TraceOp op) {
        SourceLine src = op.source();
        return Optional.ofNullable(switch (op) {
            case TraceOp.VmLine v -> null;
            case TraceOp.Mmap m -> mmap(m);
            case TraceOp.Munmap m -> {
                ReplayNames.Mapping mapping = names.mapping(m.name(), src);
                yield ResultLine.status(host.munmap(mapping.hva(), mapping.length()));
            }
            case TraceOp.Madvise m -> ResultLine.status(
                    host.madvise(names.mapping(m.name(), src).hva() + m.offset(), m.length(), m.advice()));
            case TraceOp.Mprotect m -> ResultLine.status(
                    host.mprotect(names.mapping(m.name(), src).hva() + m.offset(), m.length(), m.protection()));
            case TraceOp.HostWrite w -> hostWrite(names.hva(w.hva(), src), w.value());
            case TraceOp.HostRead r -> hostRead(names.hva(r.hva(), src));
            case TraceOp.Region r -> ResultLine.status(vm.setUserMemoryRegion(r.slot(), r.flags(),
                    r.guestPhysAddr(), r.memorySize(), names.hva(r.hva(), src)));
            case TraceOp.Region2 r -> ResultLine.status(vm.setUserMemoryRegion2(r.slot(), r.flags(),
                    r.guestPhysAddr(), r.memorySize(), names.hva(r.hva(), src), names.fd(r.gmem(), src),
                    r.gmemOffset()));
            case TraceOp.GuestWrite w -> ResultLine.access(vm.vcpu(VCPU).write64(w.gpa(), w.value()));
            case TraceOp.GuestRead r -> ResultLine.access(vm.vcpu(VCPU).read64(r.gpa()));
            case TraceOp.Attrs a -> ResultLine.status(
                    vm.setMemoryAttributes(a.address(), a.size(), a.attributes(), a.flags()));
            case TraceOp.Gmem g -> gmem(g);
            case TraceOp.GmemMmap m -> gmemMmap(m, names.fd(m.gmem(), src));
            case TraceOp.Fallocate f -> ResultLine.status(
                    vm.fallocate(names.fd(f.gmem(), src), f.mode(), f.offset(), f.length()));
            case TraceOp.Fstat f -> fstat(names.fd(f.gmem(), src));
            // close keeps the name, like munmap: later uses show EBADF (trace 07's last line).
            case TraceOp.Close c -> ResultLine.status(vm.close(names.fd(c.gmem(), src)));
            case TraceOp.EnableCap c -> ResultLine.status(vm.enableCap(c.capability(), c.arg()));
            case TraceOp.DirtyLog d -> dirtyLog(d);
            case TraceOp.ClearLog c -> ResultLine.status(
                    vm.clearDirtyLog(c.slot(), c.firstPage(), c.numPages(), clearBitmap(c)));
        });
    }

    /** {@code dirty}: {@code KVM_GET_DIRTY_LOG} into a buffer of NPAGES bits (whole 64-bit words). */
    private String dirtyLog(TraceOp.DirtyLog d) {
        long[] bitmap = new long[(int) DirtyBitmap.wordsFor(Integer.toUnsignedLong(d.npages()))];
        int err = vm.getDirtyLog(d.slot(), bitmap);
        return err != 0 ? ResultLine.err(err) : ResultLine.bits(bitmap);
    }

    /**
     * The caller's bitmap of {@code clear}: {@code ALIGN(NUM, 64)} bits (at least one word), bit 0 being
     * page FIRST; {@code all} sets the NUM bits of the window, a list the bits of its pages.
     */
    private static long[] clearBitmap(TraceOp.ClearLog c) {
        long num = Integer.toUnsignedLong(c.numPages());
        long[] bitmap = new long[(int) Math.max(1, DirtyBitmap.wordsFor(num))];
        switch (c.pages()) {
            case ClearPages.All a -> {
                for (long i = 0; i < num; i++) {
                    bitmap[(int) (i >>> 6)] |= 1L << i;
                }
            }
            case ClearPages.None n -> {
            }
            case ClearPages.Listed l -> {
                for (long page : l.pages()) {
                    long i = page - c.firstPage();
                    bitmap[(int) (i >>> 6)] |= 1L << i;
                }
            }
        }
        return bitmap;
    }

    /** {@code mmap} returns the hva or {@code -errno}; NAME is bound only on success. */
    private String mmap(TraceOp.Mmap m) {
        long hva = host.mmap(m.size());
        if (hva < 0) {
            names.unbind(m.name());
            return ResultLine.err((int) -hva);
        }
        names.bind(m.name(), new ReplayNames.Mapping(hva, m.size()));
        return ResultLine.ok();
    }

    /** {@code gmem}: {@code KVM_CREATE_GUEST_MEMFD} returns the fd or {@code -errno}; NAME is bound only on success. */
    private String gmem(TraceOp.Gmem g) {
        int fd = vm.createGuestMemfd(g.size(), g.flags());
        if (fd < 0) {
            names.unbind(g.name());
            return ResultLine.err(-fd);
        }
        names.bind(g.name(), new ReplayNames.GuestMemfd(fd));
        return ResultLine.ok();
    }

    /** {@code gmem-mmap}: the mapping's hva or {@code -errno}; NAME becomes a host mapping only on success. */
    private String gmemMmap(TraceOp.GmemMmap m, int fd) {
        long hva = vm.mmap(fd, m.size(), m.shared());
        if (hva < 0) {
            names.unbind(m.name());
            return ResultLine.err((int) -hva);
        }
        names.bind(m.name(), new ReplayNames.Mapping(hva, m.size()));
        return ResultLine.ok();
    }

    /** {@code fstat}: {@code size N}, or {@code err} for a bad fd. */
    private String fstat(int fd) {
        long size = vm.fstat(fd);
        return size < 0 ? ResultLine.err((int) -size) : ResultLine.size(size);
    }

    /**
     * A host store the real process would take SIGSEGV for prints {@code err EFAULT}, as a copy through
     * {@code process_vm_writev} would fail. No corpus trace exercises it; this is the replayer's choice.
     */
    private String hostWrite(long hva, long value) {
        try {
            host.write64(hva, value);
            return ResultLine.ok();
        } catch (HostFault fault) {
            return ResultLine.err(Errno.EFAULT);
        }
    }

    /**
     * A host load; a fault prints {@code err EFAULT} like {@link #hostWrite} (also SIGBUS on a guest_memfd
     * mapping: past its end, or private memory).
     */
    private String hostRead(long hva) {
        try {
            return ResultLine.val(host.read64(hva));
        } catch (HostFault fault) {
            return ResultLine.err(Errno.EFAULT);
        }
    }
}
