package dev.guestmem.host;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The NUMA system calls, which glibc does not wrap ({@code libnuma} does): {@code mbind} and
 * {@code get_mempolicy} through {@code syscall(2)}. Results are 0 or {@code -errno}.
 */
final class NumaCalls {
    private static final long SYS_MBIND = 237;
    private static final long SYS_GET_MEMPOLICY = 239;
    /** {@code MPOL_F_NODE}: with {@link #MPOL_F_ADDR}, report the node holding the page. */
    private static final long MPOL_F_NODE = 1;
    /** {@code MPOL_F_ADDR}: the policy of the given address. */
    private static final long MPOL_F_ADDR = 1 << 1;
    /** {@code MPOL_F_MEMS_ALLOWED}: the nodes this process may allocate on. */
    private static final long MPOL_F_MEMS_ALLOWED = 1 << 2;
    /** Bits in the node masks passed: one {@code unsigned long}. */
    private static final long MAX_NODE = Long.SIZE;

    // long syscall(long number, ...): six register arguments after the number
    private static final MethodHandle SYSCALL6 = Syscall.downcall("syscall", FunctionDescriptor.of(ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG), Linker.Option.firstVariadicArg(1));

    private NumaCalls() {
    }

    /** {@code mbind(address, length, mode, &nodes, 64, 0)}. */
    static int mbind(long address, long length, int mode, long nodes) {
        return (int) Syscall.call("mbind", (errno, arena) -> {
            MemorySegment mask = arena.allocateFrom(ValueLayout.JAVA_LONG, nodes);
            return (long) SYSCALL6.invokeExact(errno, SYS_MBIND, address, length, (long) mode, mask.address(),
                    MAX_NODE, 0L);
        });
    }

    /** The policy of the page at {@code address}, or null with {@code errnoOut[0]} set. */
    static MemPolicy policyAt(long address, int[] errnoOut) {
        long[] result = new long[2];
        long rc = Syscall.call("get_mempolicy", (errno, arena) -> {
            MemorySegment mode = arena.allocate(ValueLayout.JAVA_INT);
            MemorySegment mask = arena.allocate(ValueLayout.JAVA_LONG);
            long r = (long) SYSCALL6.invokeExact(errno, SYS_GET_MEMPOLICY, mode.address(), mask.address(), MAX_NODE,
                    address, MPOL_F_ADDR, 0L);
            result[0] = mode.get(ValueLayout.JAVA_INT, 0);
            result[1] = mask.get(ValueLayout.JAVA_LONG, 0);
            return r;
        });
        if (rc < 0) {
            errnoOut[0] = (int) -rc;
            return null;
        }
        return new MemPolicy((int) result[0], result[1]);
    }

    /** The node holding the page at {@code address} (which must be populated), or {@code -errno}. */
    static int nodeOf(long address) {
        return (int) Syscall.call("get_mempolicy", (errno, arena) -> {
            MemorySegment node = arena.allocate(ValueLayout.JAVA_INT);
            long r = (long) SYSCALL6.invokeExact(errno, SYS_GET_MEMPOLICY, node.address(), 0L, 0L, address,
                    MPOL_F_NODE | MPOL_F_ADDR, 0L);
            return r < 0 ? r : node.get(ValueLayout.JAVA_INT, 0);
        });
    }

    /** The mask of nodes this process may allocate on. */
    static long allowedNodes() {
        long[] mask = new long[1];
        long rc = Syscall.call("get_mempolicy", (errno, arena) -> {
            MemorySegment bits = arena.allocate(ValueLayout.JAVA_LONG);
            long r = (long) SYSCALL6.invokeExact(errno, SYS_GET_MEMPOLICY, 0L, bits.address(), MAX_NODE, 0L,
                    MPOL_F_MEMS_ALLOWED, 0L);
            mask[0] = bits.get(ValueLayout.JAVA_LONG, 0);
            return r;
        });
        return rc < 0 ? 1 : mask[0];
    }
}
