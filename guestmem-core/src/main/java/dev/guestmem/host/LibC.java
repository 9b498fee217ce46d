package dev.guestmem.host;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Raw Linux x86-64 memory-management system calls, and the memfd file calls behind {@link MemfdFile},
 * through the foreign-function API. Each call returns
 * what the C wrapper returns on success and {@code -errno} on failure, so callers never see
 * {@code MAP_FAILED} or a stale {@code errno}.
 *
 * <p>No validation happens here: {@link HostMemory} only passes ranges it has checked against its own
 * registry, because an {@code munmap} or {@code mprotect} of memory the JVM owns would crash it.
 */
@SuppressWarnings("restricted") // downcalls are the purpose of this class; enabled with --enable-native-access
final class LibC {
    static final int PROT_NONE = 0x0;
    static final int PROT_READ = 0x1;
    static final int PROT_WRITE = 0x2;
    static final int MAP_SHARED = 0x01;
    static final int MAP_PRIVATE = 0x02;
    static final int MAP_FIXED = 0x10;
    static final int MAP_ANONYMOUS = 0x20;
    static final int MAP_NORESERVE = 0x4000;
    /** {@code memfd_create} flags: close-on-exec, and allow seals (to fix the size for good). */
    static final int MFD_CLOEXEC = 0x1;
    static final int MFD_ALLOW_SEALING = 0x2;
    /** {@code fcntl} command and seals: no shrinking, no growing, no further seals. */
    static final int F_ADD_SEALS = 1033;
    static final int F_SEAL_SEAL = 0x1;
    static final int F_SEAL_SHRINK = 0x2;
    static final int F_SEAL_GROW = 0x4;
    /** {@code sizeof(struct stat)} and the offsets read from it, x86-64 glibc. */
    private static final long STAT_SIZE = 144;
    private static final long STAT_INO_OFFSET = 8;
    private static final long STAT_SIZE_OFFSET = 48;
    private static final long STAT_BLKSIZE_OFFSET = 56;
    private static final long STAT_BLOCKS_OFFSET = 64;
    /** {@code _SC_PAGESIZE} on Linux. */
    private static final int SC_PAGESIZE = 30;

    // void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset)
    private static final MethodHandle MMAP = downcall("mmap", FunctionDescriptor.of(ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
    // int munmap(void *addr, size_t length)
    private static final MethodHandle MUNMAP = downcall("munmap",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
    // int madvise(void *addr, size_t length, int advice)
    private static final MethodHandle MADVISE = downcall("madvise", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
    // int mprotect(void *addr, size_t length, int prot)
    private static final MethodHandle MPROTECT = downcall("mprotect", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
    // int memfd_create(const char *name, unsigned int flags)
    private static final MethodHandle MEMFD_CREATE = downcall("memfd_create",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    // int ftruncate(int fd, off_t length)
    private static final MethodHandle FTRUNCATE = downcall("ftruncate",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
    // int fcntl(int fd, int cmd, ... /* int arg */): variadic after the command
    private static final MethodHandle FCNTL_INT = downcall("fcntl", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), Linker.Option.firstVariadicArg(2));
    // int fallocate(int fd, int mode, off_t offset, off_t len)
    private static final MethodHandle FALLOCATE = downcall("fallocate", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
    // int fstat(int fd, struct stat *buf)
    private static final MethodHandle FSTAT = downcall("fstat",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    // int close(int fd)
    private static final MethodHandle CLOSE = downcall("close",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    // long sysconf(int name): no errno needed
    private static final MethodHandle SYSCONF = Syscall.plainDowncall("sysconf",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));

    private LibC() {
    }

    /*
     * Pointers are passed and returned as JAVA_LONG: on the 64-bit Linux ABIs a pointer travels in the
     * same integer register as a long, and this keeps the hot paths free of MemorySegment wrappers.
     */
    private static MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... extra) {
        return Syscall.downcall(name, descriptor, extra);
    }

    /** The kernel's page size. */
    static long pageSize() {
        try {
            return (long) SYSCONF.invokeExact(SC_PAGESIZE);
        } catch (Throwable t) {
            throw new AssertionError("sysconf downcall failed", t);
        }
    }

    /** Anonymous private {@code MAP_NORESERVE} mapping of {@code length} bytes: its address or -errno. */
    static long mmapAnonymous(long length, int prot) {
        return mmap(0L, length, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1);
    }

    /**
     * The same, replacing whatever was at {@code address} ({@code MAP_FIXED}); only for ranges that
     * {@link HostMemory} holds (its own mappings or reservations).
     */
    static long mmapAnonymousAt(long address, long length, int prot) {
        return mmap(address, length, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1);
    }

    /**
     * Replaces {@code [address, address + length)} by an inaccessible reservation
     * ({@code PROT_NONE}, {@code MAP_FIXED}): the pages are gone as after {@code munmap}, but the
     * addresses stay ours, so nothing else in the process can be mapped where a stale memslot points.
     */
    static long reserve(long address, long length) {
        return mmapAnonymousAt(address, length, PROT_NONE);
    }

    /** {@code mmap(NULL, length, prot, MAP_SHARED, fd, 0)}: the address or -errno. */
    static long mmapShared(int fd, long length, int prot) {
        return mmap(0L, length, prot, MAP_SHARED, fd);
    }

    /** {@link #mmapShared} at a range {@link HostMemory} holds ({@code MAP_FIXED}). */
    static long mmapSharedAt(long address, int fd, long length, int prot) {
        return mmap(address, length, prot, MAP_SHARED | MAP_FIXED, fd);
    }

    /** {@code mmap(address, length, prot, flags, fd, 0)}: the address or -errno. */
    private static long mmap(long address, long length, int prot, int flags, int fd) {
        return Syscall.call("mmap", (errno, arena) -> (long) MMAP.invokeExact(errno, address, length, prot, flags,
                fd, 0L));
    }

    /** {@code munmap}: 0 or -errno. */
    static int munmap(long address, long length) {
        return (int) Syscall.call("munmap", (errno, arena) -> (int) MUNMAP.invokeExact(errno, address, length));
    }

    /** {@code madvise}: 0 or -errno. */
    static int madvise(long address, long length, int advice) {
        return (int) Syscall.call("madvise", (errno, arena) ->
                (int) MADVISE.invokeExact(errno, address, length, advice));
    }

    /** {@code mprotect}: 0 or -errno. */
    static int mprotect(long address, long length, int prot) {
        return (int) Syscall.call("mprotect", (errno, arena) ->
                (int) MPROTECT.invokeExact(errno, address, length, prot));
    }

    /** {@code memfd_create(name, flags)}: the fd or -errno. */
    static int memfdCreate(String name, int flags) {
        return (int) Syscall.call("memfd_create", (errno, arena) ->
                (int) MEMFD_CREATE.invokeExact(errno, arena.allocateFrom(name), flags));
    }

    /** {@code ftruncate}: 0 or -errno. */
    static int ftruncate(int fd, long length) {
        return (int) Syscall.call("ftruncate", (errno, arena) -> (int) FTRUNCATE.invokeExact(errno, fd, length));
    }

    /** {@code fcntl(fd, F_ADD_SEALS, seals)}: 0 or -errno. */
    static int addSeals(int fd, int seals) {
        return (int) Syscall.call("fcntl", (errno, arena) ->
                (int) FCNTL_INT.invokeExact(errno, fd, F_ADD_SEALS, seals));
    }

    /** {@code fallocate}: 0 or -errno. */
    static int fallocate(int fd, int mode, long offset, long length) {
        return (int) Syscall.call("fallocate", (errno, arena) ->
                (int) FALLOCATE.invokeExact(errno, fd, mode, offset, length));
    }

    /**
     * {@code fstat}: the fields this project reads.
     *
     * @throws IllegalStateException if the call fails (callers pass only fds they own)
     */
    static FileStat fstat(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment stat = arena.allocate(STAT_SIZE, Long.BYTES);
            long result = Syscall.call("fstat", (errno, scratch) -> (int) FSTAT.invokeExact(errno, fd, stat));
            if (result < 0) {
                throw new IllegalStateException("fstat(" + fd + ") failed: errno " + -result);
            }
            return new FileStat(stat.get(ValueLayout.JAVA_LONG, STAT_SIZE_OFFSET),
                    stat.get(ValueLayout.JAVA_LONG, STAT_BLKSIZE_OFFSET),
                    stat.get(ValueLayout.JAVA_LONG, STAT_INO_OFFSET),
                    stat.get(ValueLayout.JAVA_LONG, STAT_BLOCKS_OFFSET));
        }
    }

    /** {@code close}: 0 or -errno. */
    static int close(int fd) {
        return (int) Syscall.call("close", (errno, arena) -> (int) CLOSE.invokeExact(errno, fd));
    }
}
