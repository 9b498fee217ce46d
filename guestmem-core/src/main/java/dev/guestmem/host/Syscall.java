package dev.guestmem.host;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * C-library calls through the foreign-function API in the kernel's convention: a wrapper that returns
 * -1 and sets {@code errno} becomes {@code -errno}, so callers never see a stale {@code errno}. Shared by
 * the host-memory bindings and the {@code /dev/kvm} backend.
 */
@SuppressWarnings("restricted") // downcalls are the purpose of this class; enabled with --enable-native-access
public final class Syscall {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    /** One invocation of an errno-capturing downcall handle. */
    @FunctionalInterface
    public interface Invocation {
        /**
         * Invokes the handle with {@code errnoState} as its leading argument; {@code arena} is a scratch
         * arena for arguments (strings, structs) that lives until the call returns.
         */
        long invoke(MemorySegment errnoState, Arena arena) throws Throwable;
    }

    private Syscall() {
    }

    /**
     * A downcall handle for the libc function {@code name} that captures {@code errno}: the handle takes
     * a capture segment as its first argument, before the C arguments of {@code descriptor}.
     */
    public static MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... extra) {
        Linker.Option[] options = new Linker.Option[extra.length + 1];
        options[0] = CAPTURE_ERRNO;
        System.arraycopy(extra, 0, options, 1, extra.length);
        return LINKER.downcallHandle(LIBC.find(name).orElseThrow(
                () -> new UnsatisfiedLinkError("libc has no " + name)), descriptor, options);
    }

    /** A downcall handle for a libc function that never fails (no errno capture). */
    public static MethodHandle plainDowncall(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(LIBC.find(name).orElseThrow(
                () -> new UnsatisfiedLinkError("libc has no " + name)), descriptor);
    }

    /**
     * Runs {@code invocation} with a fresh errno capture and scratch arena.
     *
     * @param name the C function, for the error raised when the downcall itself breaks
     * @return the C function's result, or {@code -errno} where it returned -1
     */
    public static long call(String name, Invocation invocation) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
            long result = invocation.invoke(state, arena);
            return result == -1 ? -(int) ERRNO.get(state, 0L) : result;
        } catch (Throwable t) {
            throw new AssertionError(name + " downcall failed", t);
        }
    }
}
