package dev.guestmem.gmem;

import static dev.guestmem.memslot.KvmLimits.PAGE_SHIFT;
import static dev.guestmem.memslot.KvmLimits.PAGE_SIZE;

import dev.guestmem.Errno;
import dev.guestmem.host.FileStat;
import dev.guestmem.host.HostMemory;
import dev.guestmem.host.MemfdFile;
import dev.guestmem.memslot.Memslot;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A guest_memfd file (spec §5): a fixed-size file owned by one VM, its memory (a real sealed memfd,
 * {@link MemfdFile}), the index of which memslot each of its pages is bound to (§5.3, §5.4), and its
 * file operations with the kernel's errors (§5.2).
 *
 * <p><b>Locking.</b> The invalidate lock ({@code filemap_invalidate_lock}) is taken exclusively by
 * everything that changes the bindings or frees memory under a binding (bind, unbind, punching a hole,
 * release, retirement) and shared by allocation, {@code mmap} and {@code fstat}. So bindings are stable
 * across each invalidation window, and no file operation can run against a closed memfd: after
 * {@link #release()} they answer {@code EBADF}, as an fd closed just before would.
 *
 * <p><b>Lifetime.</b> The owner calls {@link #release()} on the last close (with its slots lock held),
 * waits for a grace period of its guest accesses, then calls {@link #retire()}, which unmaps the engine's
 * view of the memory and closes the memfd. Host mappings made with {@link #mmap} stay valid: the memory
 * lives with the inode, as in Linux.
 */
public final class GuestMemfd {
    /** {@code GUEST_MEMFD_FLAG_MMAP}: the host may mmap the file, and bound slots are gmem-only. */
    public static final long FLAG_MMAP = 1;
    /** {@code GUEST_MEMFD_FLAG_INIT_SHARED}: memory starts shared (host-faultable). */
    public static final long FLAG_INIT_SHARED = 1 << 1;

    private final Object owner;
    private final long size;
    private final long flags;
    private final MemfdFile memory;
    private final GmemInvalidator invalidator;
    /** Page index to bound slot, one range per binding ({@code gmem->bindings}). */
    private final SparseRangeMap<Memslot> bindings = new SparseRangeMap<>();
    private final ReentrantReadWriteLock invalidateLock = new ReentrantReadWriteLock();
    /** Guarded by the write side of {@link #invalidateLock}; volatile for lock-free readers. */
    private volatile boolean released;

    /**
     * A file over {@code memory}.
     *
     * @param owner  the VM that created the file; only it may bind slots to it
     * @param size   the file size in bytes, page aligned and positive (validated by the caller), equal to
     *               {@code memory}'s
     * @param target the owner's MMU, whose mappings holes and release invalidate
     */
    public GuestMemfd(Object owner, long size, long flags, MemfdFile memory, GmemInvalidationTarget target) {
        if (memory.size() != size) {
            throw new IllegalArgumentException("memory of " + memory.size() + " bytes for a file of " + size);
        }
        this.owner = owner;
        this.size = size;
        this.flags = flags;
        this.memory = memory;
        this.invalidator = new GmemInvalidator(target);
    }

    /**
     * A file of {@code size} bytes with fresh memory.
     *
     * @throws dev.guestmem.host.SyscallException if the memfd cannot be created
     */
    public static GuestMemfd create(Object owner, long size, long flags, GmemInvalidationTarget target) {
        return new GuestMemfd(owner, size, flags, MemfdFile.create("kvm-gmem", size), target);
    }

    public Object owner() {
        return owner;
    }

    /** The size in bytes ({@code i_size}), fixed forever. */
    public long size() {
        return size;
    }

    public long flags() {
        return flags;
    }

    /** Whether the host may map the file, which also makes bound slots gmem-only (spec §5.4 step 5). */
    public boolean mmapAllowed() {
        return (flags & FLAG_MMAP) != 0;
    }

    /** Whether the memory is shared from the start, so host faults may touch it (spec §5.2). */
    public boolean initShared() {
        return (flags & FLAG_INIT_SHARED) != 0;
    }

    /** Whether the file has been released (its fd closed). */
    public boolean isReleased() {
        return released;
    }

    // ---------------------------------------------------------------------------------------------
    // Bindings (spec §5.3 - §5.5)

    /**
     * Checks that {@code npages} pages at byte {@code offset} fit in the file: {@code offset} aligned and
     * non-negative, and the end inside the file without wrapping (the fixed, unsigned form of the rule,
     * spec §5.4 step 3). Returns 0 or {@code EINVAL}.
     */
    public int checkRange(long offset, long npages) {
        long bytes = npages << PAGE_SHIFT;
        long end = offset + bytes;
        if (offset < 0 || (offset & (PAGE_SIZE - 1)) != 0 || Long.compareUnsigned(end, offset) < 0
                || Long.compareUnsigned(end, size) > 0) {
            return Errno.EINVAL;
        }
        return 0;
    }

    /**
     * Binds {@code slot} to its pages {@code [pgoff, pgoff + npages)}; {@code EINVAL} if any of them is
     * already bound (spec §5.4 step 4; a later kernel says {@code EEXIST}, this models 6.18) or the file
     * has been released.
     */
    public int bind(Memslot slot) {
        long start = slot.gmem().pgoff();
        long end = start + slot.npages();
        invalidateLock.writeLock().lock();
        try {
            if (released || bindings.anyIn(start, end)) {
                return Errno.EINVAL;
            }
            bindings.store(start, end, slot);
            return 0;
        } finally {
            invalidateLock.writeLock().unlock();
        }
    }

    /**
     * {@code kvm_gmem_unbind} (spec §5.5): erases {@code slot}'s binding and forgets the file in the slot;
     * nothing if the file was released first (release already dropped every binding).
     */
    public void unbind(Memslot slot) {
        long start = slot.gmem().pgoff();
        invalidateLock.writeLock().lock();
        try {
            if (!released && bindings.get(start) == slot) {
                bindings.store(start, start + slot.npages(), null);
            }
            slot.gmem().clearFile();
        } finally {
            invalidateLock.writeLock().unlock();
        }
    }

    /** The slot bound at page index {@code pgoff}, or {@code null}. Lock-free. */
    public Memslot slotAt(long pgoff) {
        return bindings.get(pgoff);
    }

    /** Every bound slot, in page-offset order. */
    public List<Memslot> boundSlots() {
        return values(bindings.all());
    }

    // ---------------------------------------------------------------------------------------------
    // File operations (spec §5.2)

    /**
     * {@code fallocate(2)}: allocate ({@code KEEP_SIZE}) or punch a hole ({@code KEEP_SIZE|PUNCH_HOLE}).
     * Allocation must stay inside the file; punching may go past its end (nothing is there). Punching
     * zaps the guest mappings of every bound slot in the range first (spec §5.5), so later guest and
     * host reads see zeros. A pending interrupt of the calling thread stands for a pending signal.
     *
     * @return 0 or the errno ({@link Fallocate#check} errors, {@code EINVAL} past the end,
     *         {@code EINTR}, {@code EBADF} if released meanwhile, or the memfd's error)
     */
    public int fallocate(int mode, long offset, long length) {
        int err = Fallocate.check(mode, offset, length);
        if (err != 0) {
            return err;
        }
        return Fallocate.punchesHole(mode) ? punchHole(offset, length) : allocate(offset, length);
    }

    private int allocate(long offset, long length) {
        if (Long.compareUnsigned(offset + length, size) > 0) {
            return Errno.EINVAL;
        }
        invalidateLock.readLock().lock();
        try {
            if (released) {
                return Errno.EBADF;
            }
            if (Thread.currentThread().isInterrupted()) {
                return Errno.EINTR;
            }
            return memory.fallocate(Fallocate.KEEP_SIZE, offset, length);
        } finally {
            invalidateLock.readLock().unlock();
        }
    }

    /** {@code kvm_gmem_punch_hole}: page indexes {@code [offset >> 12, (offset + length) >> 12)}. */
    private int punchHole(long offset, long length) {
        long start = offset >>> PAGE_SHIFT;
        long end = (offset + length) >>> PAGE_SHIFT;
        invalidateLock.writeLock().lock();
        try {
            if (released) {
                return Errno.EBADF;
            }
            int[] truncated = {0};
            invalidator.invalidate(values(bindings.intersecting(start, end)), start, end,
                    ZapFilter.forGuestMemfd(flags), () -> truncated[0] = truncate(offset, length));
            return truncated[0];
        } finally {
            invalidateLock.writeLock().unlock();
        }
    }

    /** Frees the pages of {@code [offset, offset + length)} inside the file; past its end is a no-op. */
    private int truncate(long offset, long length) {
        if (Long.compareUnsigned(offset, size) >= 0) {
            return 0;
        }
        long inside = Math.min(length, size - offset);
        return memory.fallocate(Fallocate.KEEP_SIZE | Fallocate.PUNCH_HOLE, offset, inside);
    }

    /**
     * {@code fstat(2)}: size (the file's fixed size), block size and inode number of the real memfd;
     * empty once released.
     */
    public Optional<FileStat> stat() {
        invalidateLock.readLock().lock();
        try {
            return released ? Optional.empty() : Optional.of(memory.stat());
        } finally {
            invalidateLock.readLock().unlock();
        }
    }

    /** {@code ftruncate(2)} and every other attribute change: {@code EINVAL}, the size is immutable (KGM-07). */
    public int ftruncate(long length) {
        return Errno.EINVAL;
    }

    /**
     * {@code read}/{@code write}/{@code pread}/{@code pwrite}: the file has no such operations, so the
     * VFS refuses them with {@code EINVAL} (GMF-04; for the positional forms the kernel's answer was not
     * verified, this is the choice of the model).
     *
     * @return {@code -EINVAL}
     */
    public long readOrWrite() {
        return -Errno.EINVAL;
    }

    /**
     * {@code mmap(NULL, length, PROT_READ|PROT_WRITE, shared ? MAP_SHARED : MAP_PRIVATE, fd, 0)} into
     * {@code host}: the generic length checks, then {@code kvm_gmem_mmap}'s ({@code ENODEV} without
     * {@link #FLAG_MMAP}, {@code EINVAL} unless shared). Host faults past the end of the file, or
     * anywhere in a file that is not {@link #FLAG_INIT_SHARED} (private memory is never host-mappable),
     * report a {@link dev.guestmem.host.HostFault} instead of reaching the memory.
     *
     * @return the hva, or {@code -errno}
     */
    public long mmap(HostMemory host, long length, boolean shared) {
        if (length == 0) {
            return -Errno.EINVAL;
        }
        long aligned = (length + PAGE_SIZE - 1) & -PAGE_SIZE;
        if (aligned == 0 || Long.compareUnsigned(aligned, HostMemory.TASK_SIZE) > 0) {
            return -Errno.ENOMEM;
        }
        if (!mmapAllowed()) {
            return -Errno.ENODEV;
        }
        if (!shared) {
            return -Errno.EINVAL;
        }
        invalidateLock.readLock().lock();
        try {
            if (released) {
                return -Errno.EBADF;
            }
            return host.mmapShared(memory.fd(), length, initShared() ? size : 0);
        } finally {
            invalidateLock.readLock().unlock();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Release and the guest's view

    /**
     * {@code kvm_gmem_release} (spec §5.2, KGM-10), on the last close, with the owner's slots lock held:
     * every bound slot forgets the file (later faults on it fail), every mapping of the file's pages is
     * invalidated ({@code [0, ~0)}), the bindings are dropped. The memory stays until {@link #retire()}.
     * Idempotent.
     */
    public void release() {
        invalidateLock.writeLock().lock();
        try {
            if (released) {
                return;
            }
            released = true;
            List<Memslot> bound = boundSlots();
            for (Memslot slot : bound) {
                slot.gmem().clearFile();
            }
            invalidator.invalidate(bound, 0, -1L, ZapFilter.forGuestMemfd(flags), () -> { });
            bindings.store(0, -1L, null);
        } finally {
            invalidateLock.writeLock().unlock();
        }
    }

    /**
     * Frees the engine's view of the memory and closes the memfd, after {@link #release()} and a grace
     * period that guarantees no guest access still uses a page from {@link #page}. Idempotent.
     */
    public void retire() {
        invalidateLock.writeLock().lock();
        try {
            if (!released) {
                throw new IllegalStateException("retire() before release()");
            }
            memory.close();
        } finally {
            invalidateLock.writeLock().unlock();
        }
    }

    /**
     * The 4 KiB page at index {@code pgoff} of the file, as the engine's guest accesses reach it (the
     * pfn of {@code kvm_gmem_get_pfn}); a hole reads as zeros and is allocated on first touch. Valid
     * until {@link #retire()}: callers hold the owner's SRCU read section, which retirement waits out.
     *
     * @throws dev.guestmem.host.SyscallException if the view cannot be mapped ({@code ENOMEM})
     */
    public MemorySegment page(long pgoff) {
        if (Long.compareUnsigned(pgoff, size >>> PAGE_SHIFT) >= 0) {
            throw new IndexOutOfBoundsException("page " + pgoff + " of a " + size + "-byte guest_memfd");
        }
        return memory.view().asSlice(pgoff << PAGE_SHIFT, PAGE_SIZE);
    }

    private static List<Memslot> values(List<SparseRangeMap.Range<Memslot>> ranges) {
        List<Memslot> slots = new ArrayList<>(ranges.size());
        for (SparseRangeMap.Range<Memslot> r : ranges) {
            slots.add(r.value());
        }
        return slots;
    }
}
