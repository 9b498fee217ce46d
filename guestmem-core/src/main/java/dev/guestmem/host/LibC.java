package dev.guestmem.host;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

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
    static final int PROT_READ = 0x1;
    static final int PROT_WRITE = 0x2;
    static final int MAP_SHARED = 0x01;
    static final int MAP_PRIVATE = 0x02;
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

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

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
    private static final MethodHandle SYSCONF = LINKER.downcallHandle(LIBC.find("sysconf").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));

    private LibC() {
    }

    /*
     * Pointers are passed and returned as JAVA_LONG: on the 64-bit Linux ABIs a pointer travels in the
     * same integer register as a long, and this keeps the hot paths free of MemorySegment wrappers.
     */
    private static MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... extra) {
        Linker.Option[] options = new Linker.Option[extra.length + 1];
        options[0] = CAPTURE_ERRNO;
        System.arraycopy(extra, 0, options, 1, extra.length);
        return LINKER.downcallHandle(LIBC.find(name).orElseThrow(
                () -> new UnsatisfiedLinkError("libc has no " + name)), descriptor, options);
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
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
            long result = (long) MMAP.invokeExact(state, 0L, length, prot,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0L);
            return result == -1L ? -errno(state) : result;
        } catch (Throwable t) {
            throw new AssertionError("mmap downcall failed", t);
        }
    }

    /** {@code mmap(NULL, length, prot, MAP_SHARED, fd, 0)}: the address or -errno. */
    static long mmapShared(int fd, long length, int prot) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
            long result = (long) MMAP.invokeExact(state, 0L, length, prot, MAP_SHARED, fd, 0L);
            return result == -1L ? -errno(state) : result;
        } catch (Throwable t) {
            throw new AssertionError("mmap downcall failed", t);
        }
    }

    /** {@code munmap}: 0 or -errno. */
    static int munmap(long address, long length) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
            int result = (int) MUNMAP.invokeExact(state, address, length);
            return result == -1 ? -errno(state) : result;
        } catch (Throwable t) {
            throw new AssertionError("munmap downcall failed", t);
        }
    }

    /** {@code madvise}: 0 or -errno. */
    static int madvise(long address, long length, int advice) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
            int result = (int) MADVISE.invokeExact(state, address, length, advice);
            return result == -1 ? -errno(state) : result;
        } catch (Throwable t) {
            throw new AssertionError("madvise downcall failed", t);
        }
    }

    /** {@code mprotect}: 0 or -errno. */
    static int mprotect(long address, long length, int prot) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
            int result = (int) MPROTECT.invokeExact(state, address, length, prot);
            return result == -1 ? -errno(state) : result;
        } catch (Throwable t) {
            throw new AssertionError("mprotect downcall failed", t);
        }
    }

    /** {@code memfd_create(name, flags)}: the fd or -errno. */
    static int memfdCreate(String name, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
            int result = (int) MEMFD_CREATE.invokeExact(state, arena.allocateFrom(name), flags);
            return result == -1 ? -errno(state) : result;
        } catch (Throwable t) {
            throw new AssertionError("memfd_create downcall failed", t);
        }
    }

    /** {@code ftruncate}: 0 or -errno. */
    static int ftruncate(int fd, long length) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
            int result = (int) FTRUNCATE.invokeExact(state, fd, length);
            return result == -1 ? -errno(state) : result;
        } catch (Throwable t) {
            throw new AssertionError("ftruncate downcall failed", t);
        }
    }

    /** {@code fcntl(fd, F_ADD_SEALS, seals)}: 0 or -errno. */
    static int addSeals(int fd, int seals) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
            int result = (int) FCNTL_INT.invokeExact(state, fd, F_ADD_SEALS, seals);
            return result == -1 ? -errno(state) : result;
        } catch (Throwable t) {
            throw new AssertionError("fcntl downcall failed", t);
        }
    }

    /** {@code fallocate}: 0 or -errno. */
    static int fallocate(int fd, int mode, long offset, long length) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
            int result = (int) FALLOCATE.invokeExact(state, fd, mode, offset, length);
            return result == -1 ? -errno(state) : result;
        } catch (Throwable t) {
            throw new AssertionError("fallocate downcall failed", t);
        }
    }

    /**
     * {@code fstat}: the fields this project reads.
     *
     * @throws IllegalStateException if the call fails (callers pass only fds they own)
     */
    static FileStat fstat(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
            MemorySegment stat = arena.allocate(STAT_SIZE, Long.BYTES);
            int result = (int) FSTAT.invokeExact(state, fd, stat);
            if (result == -1) {
                throw new IllegalStateException("fstat(" + fd + ") failed: errno " + errno(state));
            }
            return new FileStat(stat.get(ValueLayout.JAVA_LONG, STAT_SIZE_OFFSET),
                    stat.get(ValueLayout.JAVA_LONG, STAT_BLKSIZE_OFFSET),
                    stat.get(ValueLayout.JAVA_LONG, STAT_INO_OFFSET),
                    stat.get(ValueLayout.JAVA_LONG, STAT_BLOCKS_OFFSET));
        } catch (IllegalStateException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError("fstat downcall failed", t);
        }
    }

    /** {@code close}: 0 or -errno. */
    static int close(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
            int result = (int) CLOSE.invokeExact(state, fd);
            return result == -1 ? -errno(state) : result;
        } catch (Throwable t) {
            throw new AssertionError("close downcall failed", t);
        }
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }
}
