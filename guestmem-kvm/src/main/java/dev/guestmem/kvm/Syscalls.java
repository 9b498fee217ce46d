package dev.guestmem.kvm;

import dev.guestmem.host.Syscall;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The libc calls the KVM backend makes, through the foreign-function API: {@code open}, {@code close},
 * {@code ioctl}, {@code mmap}, {@code munmap}, {@code fallocate} and {@code fstat}. Every call returns
 * what the C function returns on success and {@code -errno} on failure (errno is captured by the
 * linker right after the call, so no other native call in between can overwrite it).
 *
 * <p>Nothing is validated here; callers pass only fds and ranges they own.
 */
@SuppressWarnings("restricted") // downcalls are the purpose of this class; enabled with --enable-native-access
final class Syscalls {
    static final int O_RDWR = 2;
    static final int O_CLOEXEC = 0x80000;
    static final int PROT_READ = 0x1;
    static final int PROT_WRITE = 0x2;
    static final int MAP_SHARED = 0x01;
    static final int MAP_PRIVATE = 0x02;
    static final int MAP_ANONYMOUS = 0x20;
    static final int MAP_NORESERVE = 0x4000;
    /** {@code sizeof(struct stat)} on x86-64 glibc, measured with gcc. */
    static final long STAT_SIZE = 144;
    /** {@code offsetof(struct stat, st_size)} on x86-64 glibc, measured with gcc. */
    static final long STAT_ST_SIZE_OFFSET = 48;

    /* ioctl and open are variadic in C: the arguments after the second must be passed as variadic
     * arguments, or the x86-64 ABI's vector-register count (AL) is left undefined. */
    private static final Linker.Option AFTER_TWO_FIXED = Linker.Option.firstVariadicArg(2);

    // int open(const char *path, int flags, ... /* mode_t mode */)
    private static final MethodHandle OPEN = downcall("open", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), AFTER_TWO_FIXED);
    // int close(int fd)
    private static final MethodHandle CLOSE = downcall("close",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    // int ioctl(int fd, unsigned long request, ... /* pointer */)
    private static final MethodHandle IOCTL_POINTER = downcall("ioctl", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS), AFTER_TWO_FIXED);
    // int ioctl(int fd, unsigned long request, ... /* unsigned long */)
    private static final MethodHandle IOCTL_VALUE = downcall("ioctl", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG), AFTER_TWO_FIXED);
    // void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset)
    private static final MethodHandle MMAP = downcall("mmap", FunctionDescriptor.of(ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
    // int munmap(void *addr, size_t length)
    private static final MethodHandle MUNMAP = downcall("munmap",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
    // int fallocate(int fd, int mode, off_t offset, off_t len)
    private static final MethodHandle FALLOCATE = downcall("fallocate", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
    // int fstat(int fd, struct stat *buf): a real symbol since glibc 2.33
    private static final MethodHandle FSTAT = downcall("fstat",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));

    private Syscalls() {
    }

    private static MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... extra) {
        return Syscall.downcall(name, descriptor, extra);
    }

    /** {@code open(path, flags)}: an fd or -errno. */
    static int open(String path, int flags) {
        return (int) Syscall.call("open", (errno, arena) ->
                (int) OPEN.invokeExact(errno, arena.allocateFrom(path), flags, 0));
    }

    /** {@code close(fd)}: 0 or -errno. */
    static int close(int fd) {
        return (int) Syscall.call("close", (errno, arena) ->
                (int) CLOSE.invokeExact(errno, fd));
    }

    /** {@code ioctl(fd, request, arg)} with a pointer argument: the result or -errno. */
    static int ioctl(int fd, long request, MemorySegment arg) {
        return (int) Syscall.call("ioctl", (errno, arena) ->
                (int) IOCTL_POINTER.invokeExact(errno, fd, request, arg));
    }

    /** {@code ioctl(fd, request, arg)} with an integer argument: the result or -errno. */
    static int ioctl(int fd, long request, long arg) {
        return (int) Syscall.call("ioctl", (errno, arena) ->
                (int) IOCTL_VALUE.invokeExact(errno, fd, request, arg));
    }

    /** {@code mmap(NULL, length, prot, flags, fd, offset)}: the address or -errno. */
    static long mmap(long length, int prot, int flags, int fd, long offset) {
        return (long) Syscall.call("mmap", (errno, arena) ->
                (long) MMAP.invokeExact(errno, 0L, length, prot, flags, fd, offset));
    }

    /** {@code munmap(address, length)}: 0 or -errno. */
    static int munmap(long address, long length) {
        return (int) Syscall.call("munmap", (errno, arena) ->
                (int) MUNMAP.invokeExact(errno, address, length));
    }

    /** {@code fallocate(fd, mode, offset, length)}: 0 or -errno. */
    static int fallocate(int fd, int mode, long offset, long length) {
        return (int) Syscall.call("fallocate", (errno, arena) ->
                (int) FALLOCATE.invokeExact(errno, fd, mode, offset, length));
    }

    /** {@code st_size} from {@code fstat(fd)}, or -errno. */
    static long fstatSize(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment stat = arena.allocate(STAT_SIZE, Long.BYTES);
            long rc = Syscall.call("fstat", (errno, scratch) -> (int) FSTAT.invokeExact(errno, fd, stat));
            return rc < 0 ? rc : stat.get(ValueLayout.JAVA_LONG, STAT_ST_SIZE_OFFSET);
        }
    }
}
