package dev.guestmem.host;

import java.lang.foreign.MemorySegment;

/**
 * A real {@code memfd_create} file of a fixed size: the memory behind an engine guest_memfd. Allocating
 * ({@link #fallocate} with {@code KEEP_SIZE}) really allocates pages and punching a hole really frees
 * them; {@link HostMemory#mmapShared} of {@link #fd()} aliases the same pages the engine reaches
 * through {@link #view()}.
 *
 * <p><b>No SIGBUS.</b> The size is sealed right after creation ({@code F_SEAL_SHRINK | F_SEAL_GROW |
 * F_SEAL_SEAL}), so no page below it can ever stop existing: an access inside the file through any
 * shared mapping finds a page (an existing one or a fresh zero page after a hole was punched). That is
 * what makes touching {@link #view()} safe for the JVM.
 *
 * <p><b>Lifetime.</b> {@link #view()} is one {@code MAP_SHARED} mapping of the whole file, made on first
 * use (a file nobody accesses costs one fd and no mapping). {@link #close()} unmaps it and closes the
 * fd; its caller must first make sure nobody can still touch the view (a grace period). Host mappings
 * of the file stay valid after {@link #close()}: they hold the inode, as in Linux.
 *
 * <p>Thread-safe.
 */
public final class MemfdFile implements AutoCloseable {
    private static final int READ_WRITE = LibC.PROT_READ | LibC.PROT_WRITE;
    private static final int SEALS = LibC.F_SEAL_SHRINK | LibC.F_SEAL_GROW | LibC.F_SEAL_SEAL;

    private final int fd;
    private final long size;
    /** Address of the internal view, 0 until first use; guarded by {@code this} for writes. */
    private volatile long viewAddress;
    private volatile boolean closed;

    private MemfdFile(int fd, long size) {
        this.fd = fd;
        this.size = size;
    }

    /**
     * A new memfd named {@code name} of {@code size} bytes (page aligned, positive), all a hole.
     *
     * @throws SyscallException if the kernel refuses (for example {@code EMFILE}, {@code ENOMEM})
     */
    public static MemfdFile create(String name, long size) {
        if (size <= 0 || (size & (HostMemory.PAGE_SIZE - 1)) != 0) {
            throw new IllegalArgumentException("memfd size must be a positive page multiple: " + size);
        }
        int fd = LibC.memfdCreate(name, LibC.MFD_CLOEXEC | LibC.MFD_ALLOW_SEALING);
        if (fd < 0) {
            throw new SyscallException("memfd_create", -fd);
        }
        String call = "ftruncate";
        int rc = LibC.ftruncate(fd, size);
        if (rc == 0) {
            call = "fcntl(F_ADD_SEALS)";
            rc = LibC.addSeals(fd, SEALS);
        }
        if (rc != 0) {
            LibC.close(fd);
            throw new SyscallException(call, -rc);
        }
        return new MemfdFile(fd, size);
    }

    /** The file descriptor (to map the file with {@link HostMemory#mmapShared}). */
    public int fd() {
        return fd;
    }

    /** The fixed size in bytes. */
    public long size() {
        return size;
    }

    /**
     * {@code fallocate(fd, mode, offset, length)} as the kernel's shmem implements it.
     *
     * @return 0 or the errno
     */
    public int fallocate(int mode, long offset, long length) {
        requireOpen();
        return -LibC.fallocate(fd, mode, offset, length);
    }

    /** {@code fstat} of the file: its size, block size and inode number. */
    public FileStat stat() {
        requireOpen();
        return LibC.fstat(fd);
    }

    /**
     * The whole file as one segment of a shared read-write mapping, mapped on first use. Accesses see
     * the file's current pages (zeros in holes; reading a hole allocates a page, as a shmem fault does).
     *
     * @throws SyscallException      if the mapping cannot be made ({@code ENOMEM})
     * @throws IllegalStateException after {@link #close()}
     */
    @SuppressWarnings("restricted") // the mapping is ours and lives until close(), see the class comment
    public MemorySegment view() {
        long address = viewAddress;
        if (address == 0) {
            address = mapView();
        }
        return MemorySegment.ofAddress(address).reinterpret(size);
    }

    private synchronized long mapView() {
        requireOpen();
        if (viewAddress == 0) {
            long address = LibC.mmapShared(fd, size, READ_WRITE);
            if (address < 0) {
                throw new SyscallException("mmap of memfd", (int) -address);
            }
            viewAddress = address;
        }
        return viewAddress;
    }

    /**
     * Unmaps the view and closes the fd. The caller guarantees that nobody touches the view any more.
     * Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (viewAddress != 0) {
            LibC.munmap(viewAddress, size);
            viewAddress = 0;
        }
        LibC.close(fd);
    }

    /** Whether {@link #close()} has run. */
    public boolean isClosed() {
        return closed;
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("memfd " + fd + " is closed");
        }
    }
}
