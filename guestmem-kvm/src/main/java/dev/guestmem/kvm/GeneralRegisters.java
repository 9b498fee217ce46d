package dev.guestmem.kvm;

import static dev.guestmem.kvm.KvmLayouts.offset;

import dev.guestmem.Errno;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

/** {@code KVM_SET_REGS} / {@code KVM_GET_REGS} on a vCPU fd: the registers the access stubs use. */
final class GeneralRegisters {
    private static final StructLayout REGS = KvmLayouts.REGS;
    /** RFLAGS bit 1 is reserved and must be set; IF stays clear (no interrupts are ever injected). */
    private static final long RFLAGS_FIXED = 0x2;
    private static final String[] SHOWN = {"rip", "rax", "rbx", "rcx", "rdx", "rdi", "rsi", "rflags"};

    private GeneralRegisters() {
    }

    /**
     * Starts a stub: all registers zero except {@code rip}, {@code rdi} (gpa), {@code rsi} (value),
     * {@code rbx} (doorbell) and the fixed RFLAGS bit. rax starts at 0, so a load that never completes
     * cannot show a value left over from an earlier access.
     */
    static void startStub(int vcpuFd, long rip, long rdi, long rsi, long rbx) {
        startStub(vcpuFd, rip, rdi, rsi, rbx, 0, 0);
    }

    /** {@link #startStub(int, long, long, long, long)} with {@code rcx} and {@code rdx} too (the fill loop's). */
    static void startStub(int vcpuFd, long rip, long rdi, long rsi, long rbx, long rcx, long rdx) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment regs = arena.allocate(REGS);
            regs.set(ValueLayout.JAVA_LONG, offset(REGS, "rip"), rip);
            regs.set(ValueLayout.JAVA_LONG, offset(REGS, "rdi"), rdi);
            regs.set(ValueLayout.JAVA_LONG, offset(REGS, "rsi"), rsi);
            regs.set(ValueLayout.JAVA_LONG, offset(REGS, "rbx"), rbx);
            regs.set(ValueLayout.JAVA_LONG, offset(REGS, "rcx"), rcx);
            regs.set(ValueLayout.JAVA_LONG, offset(REGS, "rdx"), rdx);
            regs.set(ValueLayout.JAVA_LONG, offset(REGS, "rflags"), RFLAGS_FIXED);
            KvmException.check(Syscalls.ioctl(vcpuFd, KvmIoctls.SET_REGS, regs), "KVM_SET_REGS");
        }
    }

    /** The value of register {@code name} (a {@link KvmLayouts#REGS} field). */
    static long get(int vcpuFd, String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment regs = arena.allocate(REGS);
            KvmException.check(Syscalls.ioctl(vcpuFd, KvmIoctls.GET_REGS, regs), "KVM_GET_REGS");
            return regs.get(ValueLayout.JAVA_LONG, offset(REGS, name));
        }
    }

    /** {@code "rip=0x... rax=0x... ..."} for error messages; never throws. */
    static String describe(int vcpuFd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment regs = arena.allocate(REGS);
            int rc = Syscalls.ioctl(vcpuFd, KvmIoctls.GET_REGS, regs);
            if (rc < 0) {
                return "(KVM_GET_REGS failed: " + Errno.name(-rc) + ")";
            }
            StringBuilder text = new StringBuilder();
            for (String name : SHOWN) {
                text.append(text.isEmpty() ? "" : " ").append(name).append("=0x")
                        .append(Long.toHexString(regs.get(ValueLayout.JAVA_LONG, offset(REGS, name))));
            }
            return text.toString();
        }
    }

}
