package dev.guestmem.trace;

import dev.guestmem.host.Advice;
import dev.guestmem.host.Protection;
import dev.guestmem.vm.VmType;

/**
 * One parsed line of a {@code .gmt} trace (trace-format.md). Every record carries the line it came
 * from; numbers are kept exactly as written, as unsigned 64-bit values (or unsigned 32-bit ones stored
 * in an {@code int} where the uAPI field is a {@code u32}), so the replayer hands the VM the same bits
 * the reference runner hands the kernel.
 */
public sealed interface TraceOp {
    /** The file and line this operation was read from. */
    SourceLine source();

    /** Which operation this is. */
    OpKind kind();

    /** {@code vm default|sw-protected}: the type of the trace's VM; only allowed as the first operation. */
    record VmLine(SourceLine source, VmType type) implements TraceOp {
        @Override
        public OpKind kind() {
            return OpKind.VM;
        }
    }

    /** {@code mmap NAME SIZE}: anonymous private read-write mapping; binds NAME on success. */
    record Mmap(SourceLine source, String name, long size) implements TraceOp {
        @Override
        public OpKind kind() {
            return OpKind.MMAP;
        }
    }

    /** {@code munmap NAME}: unmap the whole mapping NAME was bound to. */
    record Munmap(SourceLine source, String name) implements TraceOp {
        @Override
        public OpKind kind() {
            return OpKind.MUNMAP;
        }
    }

    /** {@code madvise NAME OFF LEN ADVICE}. */
    record Madvise(SourceLine source, String name, long offset, long length, Advice advice) implements TraceOp {
        @Override
        public OpKind kind() {
            return OpKind.MADVISE;
        }
    }

    /** {@code mprotect NAME OFF LEN ro|rw|none}. */
    record Mprotect(SourceLine source, String name, long offset, long length, Protection protection)
            implements TraceOp {
        @Override
        public OpKind kind() {
            return OpKind.MPROTECT;
        }
    }

    /** {@code hw HVA VALUE}: host 64-bit store. */
    record HostWrite(SourceLine source, HvaOperand hva, long value) implements TraceOp {
        @Override
        public OpKind kind() {
            return OpKind.HOST_WRITE;
        }
    }

    /** {@code hr HVA}: host 64-bit load. */
    record HostRead(SourceLine source, HvaOperand hva) implements TraceOp {
        @Override
        public OpKind kind() {
            return OpKind.HOST_READ;
        }
    }

    /** {@code region SLOT FLAGS GPA SIZE HVA}: {@code KVM_SET_USER_MEMORY_REGION}. */
    record Region(SourceLine source, int slot, int flags, long guestPhysAddr, long memorySize, HvaOperand hva)
            implements TraceOp {
        @Override
        public OpKind kind() {
            return OpKind.REGION;
        }
    }

    /** {@code region2 SLOT FLAGS GPA SIZE HVA GMEM OFFSET}: {@code KVM_SET_USER_MEMORY_REGION2}. */
    record Region2(SourceLine source, int slot, int flags, long guestPhysAddr, long memorySize, HvaOperand hva,
            GmemOperand gmem, long gmemOffset) implements TraceOp {
        @Override
        public OpKind kind() {
            return OpKind.REGION2;
        }
    }

    /** {@code enable-cap manual-protect ARG}: {@code KVM_ENABLE_CAP(capability, ARG)}. */
    record EnableCap(SourceLine source, int capability, long arg) implements TraceOp {
        @Override
        public OpKind kind() {
            return OpKind.ENABLE_CAP;
        }
    }

    /** {@code dirty SLOT NPAGES}: {@code KVM_GET_DIRTY_LOG} into a buffer of NPAGES bits. */
    record DirtyLog(SourceLine source, int slot, int npages) implements TraceOp {
        @Override
        public OpKind kind() {
            return OpKind.DIRTY_LOG;
        }
    }

    /** {@code clear SLOT FIRST NUM LIST}: {@code KVM_CLEAR_DIRTY_LOG}. */
    record ClearLog(SourceLine source, int slot, long firstPage, int numPages, ClearPages pages)
            implements TraceOp {
        @Override
        public OpKind kind() {
            return OpKind.CLEAR_LOG;
        }
    }

    /** {@code attrs GPA SIZE ATTRS FLAGS}: {@code KVM_SET_MEMORY_ATTRIBUTES}. */
    record Attrs(SourceLine source, long address, long size, long attributes, long flags) implements TraceOp {
        @Override
        public OpKind kind() {
            return OpKind.ATTRS;
        }
    }

    /** {@code gmem NAME SIZE FLAGS}: {@code KVM_CREATE_GUEST_MEMFD}; binds NAME to the new fd. */
    record Gmem(SourceLine source, String name, long size, long flags) implements TraceOp {
        @Override
        public OpKind kind() {
            return OpKind.GMEM;
        }
    }

    /** {@code gmem-mmap NAME GMEM SIZE [shared|private]}: mmap of a guest_memfd; binds NAME as a mapping. */
    record GmemMmap(SourceLine source, String name, GmemOperand gmem, long size, boolean shared)
            implements TraceOp {
        @Override
        public OpKind kind() {
            return OpKind.GMEM_MMAP;
        }
    }

    /** {@code fallocate GMEM MODE OFF LEN}; MODE bits 1 {@code KEEP_SIZE}, 2 {@code PUNCH_HOLE}. */
    record Fallocate(SourceLine source, GmemOperand gmem, int mode, long offset, long length)
            implements TraceOp {
        @Override
        public OpKind kind() {
            return OpKind.FALLOCATE;
        }
    }

    /** {@code fstat GMEM}: prints {@code size N}. */
    record Fstat(SourceLine source, GmemOperand gmem) implements TraceOp {
        @Override
        public OpKind kind() {
            return OpKind.FSTAT;
        }
    }

    /** {@code close GMEM}. */
    record Close(SourceLine source, GmemOperand gmem) implements TraceOp {
        @Override
        public OpKind kind() {
            return OpKind.CLOSE;
        }
    }

    /** {@code w GPA VALUE}: guest store on vCPU 0. */
    record GuestWrite(SourceLine source, long gpa, long value) implements TraceOp {
        @Override
        public OpKind kind() {
            return OpKind.GUEST_WRITE;
        }
    }

    /** {@code r GPA}: guest load on vCPU 0. */
    record GuestRead(SourceLine source, long gpa) implements TraceOp {
        @Override
        public OpKind kind() {
            return OpKind.GUEST_READ;
        }
    }
}
