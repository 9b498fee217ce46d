package dev.guestmem.host;

import dev.guestmem.Errno;
import dev.guestmem.sync.Srcu;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongFunction;
import java.util.function.LongSupplier;
import java.util.function.LongUnaryOperator;
import java.util.function.UnaryOperator;

/**
 * The process address space in which guest memory lives, as KVM sees it through MMU notifiers: real
 * anonymous memory obtained with {@code mmap} (and shared mappings of files such as guest_memfd,
 * {@link #mmapShared}), changed with {@code munmap}, {@code madvise} and
 * {@code mprotect}, and accessed by the host ({@link #read64}, {@link #write64}, bulk {@link #read} /
 * {@link #write}) and by the MMU ({@link #resolvePage}, the equivalent of GUP).
 *
 * <p>Only memory this object mapped exists for it: every other address is unmapped, and system calls
 * are issued only on ranges validated against the registry of its own mappings, so the memory of the
 * JVM itself is never unmapped, protected or touched.
 *
 * <h2>Why a stale mapping is never touched</h2>
 * The registry ({@code AreaRegistry}) records for each page of our mappings a protection that is never
 * more permissive than the real page tables. Accessors never lock: each one enters an SRCU read section,
 * looks the address up in the registry, checks the protection, touches the memory and leaves the
 * section. Changes of the address space are serialized by one lock (like {@code mmap_lock} held for
 * write) and follow two rules:
 * <ol>
 *   <li><b>Taking access away</b> ({@code munmap}, {@code mprotect} to a weaker protection): publish the
 *       reduced registry entry first, then {@link Srcu#synchronize()}, then make the system call. Any
 *       accessor that could have seen the old entry entered its read section before the synchronize
 *       started, so it has left it before the call; any later accessor sees the new entry and faults
 *       instead of touching the memory. Hence no access runs against memory the kernel has already
 *       unmapped or protected, and the JVM cannot take a SIGSEGV.</li>
 *   <li><b>Granting access</b> ({@code mmap}, {@code mprotect} to a stronger protection): make the
 *       system call first, then publish. An accessor that still sees the old entry faults, which the
 *       access would also have done a moment earlier.</li>
 * </ol>
 * An {@code mprotect} over pages of mixed protection does both: it lowers each page to the weaker of
 * its old and new protection (and synchronizes if that lowered anything), calls {@code mprotect}, then
 * raises pages to the new protection. If a system call fails, the registry keeps the weaker state, so
 * the invariant still holds. {@code madvise(MADV_DONTNEED)} needs no grace period: the pages stay mapped
 * and read back as zeros. The registry is an immutable tree replaced with one volatile write per update,
 * so a lookup sees it entirely before or entirely after an update, never a transient hole.
 *
 * <h2>Invalidations</h2>
 * {@code munmap}, {@code madvise(MADV_DONTNEED)} and {@code mprotect} call every listener's
 * {@link InvalidationListener#invalidateRangeStart} before the registry or the memory changes and
 * {@link InvalidationListener#invalidateRangeEnd} after the system call returned, with page-aligned
 * half-open ranges, while holding the address-space lock. As in Linux: {@code munmap} notifies its whole
 * range once if any mapped page lies in it (nothing if none); {@code madvise(MADV_DONTNEED)} notifies
 * each maximal mapped run of its range separately; {@code mprotect} notifies each maximal run of pages
 * of the mapped prefix whose protection it changes (pages that have it already see nothing);
 * {@code MADV_COLLAPSE} notifies the whole 2 MiB blocks it collapses. {@code MADV_HUGEPAGE} and
 * {@code MADV_NOHUGEPAGE} do not invalidate their range; they are recorded and visible through
 * {@link #isHugeAdvised(long)}. Any of these that cuts a mapping's area inside a 2 MiB frame the area
 * wholly covers first invalidates that frame ({@link InvalidationCause#HUGE_PAGE_SPLIT}), as Linux does
 * when it splits a VMA there; so does a discard of part of a frame that could hold a huge page, inside
 * its own invalidation (see {@link #mayMapHuge}).
 *
 * <p>A host store ({@link #write64}, {@link #write}) to anonymous pages not written since they were
 * mapped or discarded also invalidates, once per maximal run of such pages, with cause
 * {@link InvalidationCause#COPY_ON_WRITE}: a read may have mapped the shared zero page there (a guest
 * read fault maps it read-only), and in Linux the store's write fault replaces it by a private page
 * between the notifier's start and end. Here the zero page and its copy share one address, so the break
 * is the page's written bit going from 0 to 1 between start and end; the store itself comes after the
 * end, as the faulting store is retried only after the fault returns. Like the other invalidations it
 * runs under the address-space lock, but outside any read section, so a listener may take locks of its
 * own (the MMU lock) without holding up a {@code munmap} that waits for readers. A write
 * {@link #resolvePage} marks its page without invalidating: the guest fault that asked replays that
 * break for its VM itself ({@code dev.guestmem.mmu.CopyOnWriteListener}).
 *
 * <h2>Pages handed to the MMU</h2>
 * The segment of a {@link HostPage} escapes the read section of {@link #resolvePage}. Its holder may use
 * it until an invalidation covering it starts, and no longer: like a pfn obtained by GUP in KVM, it must
 * be validated against the invalidation sequence (kvm-memory-spec §3.5) before it is installed, and the
 * holder's {@code invalidateRangeStart} must make sure nobody uses it any more before it returns. The
 * unmap or protection change that follows happens only after that.
 *
 * <p>Thread-safe. Assumes 4 KiB pages and the 47-bit x86-64 user address space.
 */
public final class HostMemory implements AutoCloseable {
    /** Size of a host page. */
    public static final long PAGE_SIZE = 4096;
    /** x86-64 {@code TASK_SIZE} with 4-level paging: the end of the user address space. */
    public static final long TASK_SIZE = (1L << 47) - PAGE_SIZE;

    private static final long PAGE_OFFSET_MASK = PAGE_SIZE - 1;
    private static final int READ_WRITE = LibC.PROT_READ | LibC.PROT_WRITE;
    /** All of memory, addressed by hva; touched only at addresses the registry vouches for. */
    @SuppressWarnings("restricted") // the whole point of this class: see the protocol above
    private static final MemorySegment EVERYTHING = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private final ReentrantLock addressSpaceLock = new ReentrantLock();
    private final AreaRegistry areas = new AreaRegistry();
    private final WrittenPages written = new WrittenPages();
    private final SplitHugePages splitHugePages = new SplitHugePages();
    private final Reservations reservations = new Reservations();
    private final InvalidationNotifier notifier = new InvalidationNotifier();
    private final Srcu srcu = new Srcu();
    /** Guarded by {@link #addressSpaceLock}. */
    private long nextMmapId;
    /** Guarded by {@link #addressSpaceLock}. */
    private boolean closed;
    /** Set once memory here may be written without {@link #written} hearing of it (see {@link #allowUntrackedWriters}). */
    private volatile boolean untrackedWriters;

    /**
     * An empty address space.
     *
     * @throws UnsupportedOperationException if the kernel's page size is not 4 KiB
     */
    public HostMemory() {
        long kernelPageSize = LibC.pageSize();
        if (kernelPageSize != PAGE_SIZE) {
            throw new UnsupportedOperationException("host page size " + kernelPageSize + " is not 4096");
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Address-space changes

    /**
     * Anonymous private read-write mapping with {@code MAP_NORESERVE}, like
     * {@code mmap(NULL, length, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE, -1, 0)}.
     * The length is rounded up to whole pages, as Linux does. Cheap for any size: nothing is allocated
     * per page.
     *
     * @return the page-aligned hva of the mapping, or {@code -errno} ({@code -EINVAL} for length 0,
     *         {@code -ENOMEM} when the rounded length wraps or exceeds the address space or the kernel
     *         refuses)
     * @throws IllegalStateException after {@link #close()}
     */
    public long mmap(long length) {
        if (length == 0) {
            return -Errno.EINVAL;
        }
        long aligned = pageAlign(length);
        if (aligned == 0 || Long.compareUnsigned(aligned, TASK_SIZE) > 0) {
            return -Errno.ENOMEM;
        }
        return mapAnonymous(aligned, base -> List.of(new Area(base, base + aligned, Protection.READ_WRITE, false,
                nextMmapId++)));
    }

    /**
     * Several private anonymous read-write mappings made with one system call, laid out back to back:
     * mapping {@code i} is {@code lengths[i]} bytes rounded up to whole pages. The kernel ends up with what
     * as many adjacent {@link #mmap} calls leave after it merged their areas (one VMA); here each stays a
     * mapping of its own, exactly as if mapped separately ({@link #mappingAt}, {@code munmap},
     * {@code madvise} and {@code mprotect} see the same). For VMMs that map thousands of memslots.
     *
     * @return the hva of each mapping, in order
     * @throws IllegalArgumentException if a length is 0 or the total exceeds the address space
     * @throws SyscallException if the kernel refuses the mapping
     * @throws IllegalStateException after {@link #close()}
     */
    public long[] mmapEach(long... lengths) {
        long[] offsets = new long[lengths.length + 1];
        for (int i = 0; i < lengths.length; i++) {
            long aligned = pageAlign(lengths[i]);
            if (lengths[i] == 0 || aligned == 0 || Long.compareUnsigned(aligned, TASK_SIZE - offsets[i]) > 0) {
                throw new IllegalArgumentException("length " + i + " (" + lengths[i] + ") is 0 or too large");
            }
            offsets[i + 1] = offsets[i] + aligned;
        }
        long total = offsets[lengths.length];
        if (total == 0) {
            return new long[0];
        }
        long base = mapAnonymous(total, start -> {
            List<Area> added = new ArrayList<>(lengths.length);
            for (int i = 0; i < lengths.length; i++) {
                added.add(new Area(start + offsets[i], start + offsets[i + 1], Protection.READ_WRITE, false,
                        nextMmapId++));
            }
            return added;
        });
        if (base < 0) {
            throw new SyscallException("mmap", (int) -base);
        }
        long[] hvas = new long[lengths.length];
        for (int i = 0; i < lengths.length; i++) {
            hvas[i] = base + offsets[i];
        }
        return hvas;
    }

    /**
     * Maps {@code total} bytes of anonymous read-write memory and registers the areas {@code carve} makes of
     * them (called with the base address, under the address-space lock). Returns the base or {@code -errno}.
     */
    private long mapAnonymous(long total, LongFunction<List<Area>> carve) {
        addressSpaceLock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("host memory is closed");
            }
            // Granting access: the memory exists before anyone can find it in the registry.
            long base = mapReusingReservation(total, at -> LibC.mmapAnonymousAt(at, total, READ_WRITE),
                    () -> LibC.mmapAnonymous(total, READ_WRITE));
            if (base >= 0) {
                areas.insertAll(carve.apply(base));
            }
            return base;
        } finally {
            addressSpaceLock.unlock();
        }
    }

    /**
     * Shared read-write mapping of a file, like
     * {@code mmap(NULL, length, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0)}: guest_memfd mappings. The
     * length is rounded up to whole pages. The file's own {@code mmap} handler decides whether the
     * mapping is allowed (a kernel guest_memfd answers {@code ENODEV} or {@code EINVAL}).
     *
     * <p>A file mapping can make the real process take SIGBUS where the file has no page: past its end,
     * or where it refuses host faults (private guest_memfd memory). The caller says where that starts:
     * pages at file offsets at or above {@code faultableLength} are registered as such, and accessing
     * them throws {@link HostFault} of kind {@link HostFault.Kind#BUS} instead of touching them. The
     * caller must also make sure the file cannot shrink below {@code faultableLength} while mapped
     * (a sealed {@link MemfdFile} cannot; a guest_memfd's size is immutable). Otherwise it behaves like
     * any mapping here: {@code munmap}, {@code madvise} and {@code mprotect} apply and notify listeners.
     *
     * @param fd              an open file descriptor of the caller's; the mapping keeps the file alive
     * @param faultableLength bytes from the start of the file whose pages may be touched
     * @return the page-aligned hva of the mapping, or {@code -errno} ({@code -EINVAL} for length 0,
     *         {@code -ENOMEM} for a length beyond the address space, or what the kernel answers)
     * @throws IllegalStateException after {@link #close()}
     */
    public long mmapShared(int fd, long length, long faultableLength) {
        if (length == 0) {
            return -Errno.EINVAL;
        }
        long aligned = pageAlign(length);
        if (aligned == 0 || Long.compareUnsigned(aligned, TASK_SIZE) > 0) {
            return -Errno.ENOMEM;
        }
        addressSpaceLock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("host memory is closed");
            }
            // Granting access, as for mmap: the memory exists before anyone can find it in the registry.
            long hva = mapReusingReservation(aligned, at -> LibC.mmapSharedAt(at, fd, aligned, READ_WRITE),
                    () -> LibC.mmapShared(fd, aligned, READ_WRITE));
            if (hva < 0) {
                return hva;
            }
            // A page is faultable only if all of it is: a partial last page of the file would be cut.
            long faultable = Long.compareUnsigned(faultableLength, aligned) < 0
                    ? faultableLength & ~PAGE_OFFSET_MASK : aligned;
            areas.insert(new Area(hva, hva + aligned, Protection.READ_WRITE, false, nextMmapId++, hva + faultable));
            return hva;
        } finally {
            addressSpaceLock.unlock();
        }
    }

    /**
     * {@code munmap}: removes every page of ours in {@code [hva, hva + length)} (length rounded up to
     * pages); pages that are not mapped are ignored, as in Linux. Mappings cut by the range keep their
     * other parts. Clears the written state of the removed pages. The addresses stay reserved
     * ({@code PROT_NONE}) rather than becoming a hole the JVM could reuse, and later {@link #mmap} calls
     * reuse them in the order they were unmapped, whatever their addresses (see {@code Reservations}); for
     * guests and for this object they are unmapped.
     *
     * @return 0, {@code EINVAL} (hva not page aligned, length 0, or the range leaves the user address
     *         space), or the errno of a failed system call
     */
    public int munmap(long hva, long length) {
        if ((hva & PAGE_OFFSET_MASK) != 0 || Long.compareUnsigned(hva, TASK_SIZE) > 0
                || Long.compareUnsigned(length, TASK_SIZE - hva) > 0) {
            return Errno.EINVAL;
        }
        long aligned = pageAlign(length);
        if (aligned == 0) {
            return Errno.EINVAL;
        }
        addressSpaceLock.lock();
        try {
            return unmapLocked(hva, hva + aligned);
        } finally {
            addressSpaceLock.unlock();
        }
    }

    private int unmapLocked(long start, long end) {
        List<long[]> runs = areas.coveredRuns(start, end);
        if (runs.isEmpty()) {
            return 0;
        }
        splitVmas(start, end);
        notifier.start(start, end, InvalidationCause.UNMAP);
        int error = 0;
        try {
            // Taking access away: unpublish, wait out every reader that may have seen the areas, unmap.
            areas.update(start, end, part -> null);
            srcu.synchronize();
            splitHugePages.forgetOverlapping(start, end);
            for (long[] run : runs) {
                written.clear(run[0], run[1]);
                int rc = release(run[0], run[1]);
                if (rc < 0 && error == 0) {
                    error = -rc;
                }
            }
        } finally {
            notifier.end(start, end, InvalidationCause.UNMAP);
        }
        return error;
    }

    /**
     * Gives up the pages of {@code [start, end)} but keeps the addresses: the range becomes an
     * inaccessible reservation instead of a hole, because a memslot may still point there and a real
     * hole could be filled by the JVM's own memory (a guest of the real KVM would then write into it).
     * Falls back to a real {@code munmap} if the reservation cannot be made.
     */
    private int release(long start, long end) {
        if (!closed && LibC.reserve(start, end - start) == start) {
            reservations.add(start, end);
            return 0;
        }
        return LibC.munmap(start, end - start);
    }

    /** Maps into a reserved range when one is long enough ({@code fixed}), else where the kernel likes. */
    private long mapReusingReservation(long length, LongUnaryOperator fixed, LongSupplier anywhere) {
        long reserved = reservations.take(length);
        if (reserved >= 0) {
            long hva = fixed.applyAsLong(reserved);
            if (hva == reserved) {
                return hva;
            }
            reservations.add(reserved, reserved + length);
        }
        return anywhere.getAsLong();
    }

    /**
     * {@code madvise} on {@code [hva, hva + length)} (length rounded up to pages). Like Linux, the advice
     * is applied to every mapped part of the range even when the range has holes, and the holes are then
     * reported as {@code ENOMEM}. {@link Advice#DONTNEED} discards the pages (they read back as zeros and
     * lose their written state) and invalidates each mapped run; the huge-page advice is only recorded;
     * {@link Advice#COLLAPSE} collapses each run's whole 2 MiB blocks (see {@link #collapse}).
     *
     * @return 0, {@code EINVAL} (hva not page aligned, range wraps, nothing to collapse), {@code ENOMEM} (part of the range is
     *         not mapped), or the errno of a failed system call; length 0 is a successful no-op
     */
    public int madvise(long hva, long length, Advice advice) {
        Objects.requireNonNull(advice, "advice");
        if ((hva & PAGE_OFFSET_MASK) != 0) {
            return Errno.EINVAL;
        }
        long aligned = pageAlign(length);
        if (length != 0 && aligned == 0) {
            return Errno.EINVAL;
        }
        long end = hva + aligned;
        if (Long.compareUnsigned(end, hva) < 0) {
            return Errno.EINVAL;
        }
        if (end == hva) {
            return 0;
        }
        addressSpaceLock.lock();
        try {
            Area area = areas.find(hva);
            if (advice == Advice.DONTNEED && area != null && Long.compareUnsigned(end, area.end()) <= 0) {
                return discard(hva, end, area); // the common case, one area: no run list, one registry lookup
            }
            List<long[]> runs = areas.coveredRuns(hva, end);
            for (long[] run : runs) {
                int rc = switch (advice) {
                    case DONTNEED -> discard(run[0], run[1], null);
                    case COLLAPSE -> collapse(run[0], run[1]);
                    case HUGEPAGE, NOHUGEPAGE -> adviseHuge(run[0], run[1], advice);
                };
                if (rc != 0) {
                    return rc;
                }
            }
            boolean fullyMapped = runs.size() == 1 && runs.get(0)[0] == hva && runs.get(0)[1] == end;
            return fullyMapped ? 0 : Errno.ENOMEM;
        } finally {
            addressSpaceLock.unlock();
        }
    }

    /** Discards the mapped run {@code [start, end)}; {@code only} is the one area covering it, if known. */
    private int discard(long start, long end, Area only) {
        notifier.start(start, end, InvalidationCause.DISCARD);
        try {
            if (only == null || only.hugeAdvised()) {
                splitHugePagesAtEnds(start, end);
            }
            // No grace period: the pages stay mapped, so a racing accessor reads old data or zeros.
            boolean populated = untrackedWriters || written.anyMarked(start, end)
                    || (only != null ? only.isFileBacked() : areas.anyFileBacked(start, end));
            written.clear(start, end);
            splitHugePages.forgetWhole(start, end);
            // Anonymous pages nobody wrote since their last discard hold zeros already (absent, or the
            // shared zero page): dropping them changes nothing anyone can observe, so the system call,
            // the largest part of a page-sized discard, is left out. The invalidation is announced anyway.
            return populated ? -LibC.madvise(start, end - start, Advice.DONTNEED.value()) : 0;
        } finally {
            notifier.end(start, end, InvalidationCause.DISCARD);
        }
    }

    /**
     * A discard of part of a 2 MiB frame that could hold a huge page ({@link #mayMapHuge}) splits that huge
     * page first, inside the discard's own invalidation: the kernel's {@code __split_huge_pmd} announces
     * the whole frame, and from then on the frame is mapped with 4 KiB entries.
     */
    private void splitHugePagesAtEnds(long start, long end) {
        long first = start & -SplitHugePages.FRAME_SIZE;
        long last = (end - 1) & -SplitHugePages.FRAME_SIZE;
        if (first != start || Long.compareUnsigned(end, first + SplitHugePages.FRAME_SIZE) < 0) {
            splitHugePage(first);
        }
        long lastEnd = last + SplitHugePages.FRAME_SIZE;
        if (last != first && lastEnd != end) {
            splitHugePage(last);
        }
    }

    private void splitHugePage(long frame) {
        if (mayMapHuge(frame, frame + SplitHugePages.FRAME_SIZE)) {
            announceHugePageSplit(frame);
        }
    }

    /**
     * {@code __split_huge_pmd} of the 2 MiB frame at {@code frame}: the whole frame is announced, and a huge
     * page there is split for good (see {@link SplitHugePages}).
     */
    private void announceHugePageSplit(long frame) {
        long end = frame + SplitHugePages.FRAME_SIZE;
        notifier.start(frame, end, InvalidationCause.HUGE_PAGE_SPLIT);
        if (mayMapHuge(frame, end)) {
            splitHugePages.split(frame);
        }
        notifier.end(frame, end, InvalidationCause.HUGE_PAGE_SPLIT);
    }

    /**
     * {@code MADV_COLLAPSE} of one mapped run. The only file mappings here are guest_memfd ones, whose
     * folios are never huge (kvm-memory-spec §5.6, GMF-08): {@code EINVAL}, as for a range holding no whole
     * 2 MiB block. Anonymous memory is collapsed for real; the kernel replaces the page tables of each block
     * between invalidate-range start and end, and every page of a block is then a private writable page.
     */
    private int collapse(long start, long end) {
        long blockStart = (start + SplitHugePages.FRAME_SIZE - 1) & -SplitHugePages.FRAME_SIZE;
        long blockEnd = end & -SplitHugePages.FRAME_SIZE;
        if (areas.anyFileBacked(start, end) || Long.compareUnsigned(blockStart, blockEnd) >= 0) {
            return Errno.EINVAL;
        }
        notifier.start(blockStart, blockEnd, InvalidationCause.COLLAPSE);
        try {
            int rc = -LibC.madvise(blockStart, blockEnd - blockStart, Advice.COLLAPSE.value());
            if (rc == 0) {
                written.markRange(blockStart, blockEnd);
                splitHugePages.forgetWhole(blockStart, blockEnd);
            }
            return rc;
        } finally {
            notifier.end(blockStart, blockEnd, InvalidationCause.COLLAPSE);
        }
    }

    private int adviseHuge(long start, long end, Advice advice) {
        boolean huge = advice == Advice.HUGEPAGE;
        for (long[] run : areas.runs(start, end, area -> area.changedByHugeAdvice(huge))) {
            splitVmas(run[0], run[1]); // as madvise_update_vma does; parts that keep their advice stay whole
        }
        int rc = LibC.madvise(start, end - start, advice.value());
        if (rc == 0) {
            areas.update(start, end, part -> part.withHugeAdvised(huge));
        }
        return -rc;
    }

    /**
     * {@code mbind(2)} of {@code [hva, hva + length)} (length rounded up to pages): the NUMA policy its pages
     * are allocated by from now on. For a shared file mapping (guest_memfd) the policy applies to the
     * file's pages (GMF-07, GMF-11). Only ranges of this object's mappings are passed to the kernel.
     *
     * @return 0, {@code EINVAL} (hva not page aligned, or a mode or node mask the kernel refuses),
     *         {@code EFAULT} (part of the range is not mapped), or the kernel's errno
     */
    public int mbind(long hva, long length, MemPolicy policy) {
        Objects.requireNonNull(policy, "policy");
        long end = hva + pageAlign(length);
        if ((hva & PAGE_OFFSET_MASK) != 0 || Long.compareUnsigned(end, hva) < 0) {
            return Errno.EINVAL;
        }
        addressSpaceLock.lock();
        try {
            if (end != hva && areas.coveredPrefixEnd(hva, end) != end) {
                return Errno.EFAULT;
            }
            return -NumaCalls.mbind(hva, end - hva, policy.mode(), policy.nodes());
        } finally {
            addressSpaceLock.unlock();
        }
    }

    /** The NUMA policy of the page containing {@code hva} ({@code get_mempolicy(MPOL_F_ADDR)}); empty if unmapped. */
    public Optional<MemPolicy> memPolicyAt(long hva) {
        addressSpaceLock.lock();
        try {
            if (areas.find(hva) == null) {
                return Optional.empty();
            }
            int[] errno = new int[1];
            MemPolicy policy = NumaCalls.policyAt(hva & ~PAGE_OFFSET_MASK, errno);
            if (policy == null) {
                throw new SyscallException("get_mempolicy", errno[0]);
            }
            return Optional.of(policy);
        } finally {
            addressSpaceLock.unlock();
        }
    }

    /**
     * The NUMA node holding the page containing {@code hva}, which must be mapped and populated (touched);
     * empty otherwise.
     */
    public OptionalInt nodeOf(long hva) {
        addressSpaceLock.lock();
        try {
            if (areas.find(hva) == null) {
                return OptionalInt.empty();
            }
            int node = NumaCalls.nodeOf(hva & ~PAGE_OFFSET_MASK);
            return node < 0 ? OptionalInt.empty() : OptionalInt.of(node);
        } finally {
            addressSpaceLock.unlock();
        }
    }

    /** The NUMA nodes this process may allocate on, as a mask (bit n = node n). */
    public static long allowedNodes() {
        return NumaCalls.allowedNodes();
    }

    /**
     * Declares that memory of this address space may be written behind this object's back, by a real
     * KVM guest for instance. From then on every {@code MADV_DONTNEED} reaches the kernel, even for pages
     * this object believes unwritten. Irreversible.
     */
    public void allowUntrackedWriters() {
        untrackedWriters = true;
    }

    /**
     * {@code mprotect} of {@code [hva, hva + length)} (length rounded up to pages). Like Linux, the
     * change is applied from {@code hva} up to the first unmapped page, and a hole anywhere in the range
     * is reported as {@code ENOMEM}; if {@code hva} itself is unmapped nothing changes. Data and written
     * state are kept.
     *
     * @return 0, {@code EINVAL} (hva not page aligned), {@code ENOMEM} (range wraps or is not fully
     *         mapped), or the errno of a failed system call; length 0 is a successful no-op
     */
    public int mprotect(long hva, long length, Protection protection) {
        Objects.requireNonNull(protection, "protection");
        if ((hva & PAGE_OFFSET_MASK) != 0) {
            return Errno.EINVAL;
        }
        if (length == 0) {
            return 0;
        }
        long end = hva + pageAlign(length);
        if (Long.compareUnsigned(end, hva) <= 0) {
            return Errno.ENOMEM;
        }
        addressSpaceLock.lock();
        try {
            long changedEnd = areas.coveredPrefixEnd(hva, end);
            if (changedEnd == hva) {
                return Errno.ENOMEM;
            }
            int rc = protectLocked(hva, changedEnd, protection);
            if (rc != 0) {
                return rc;
            }
            return changedEnd == end ? 0 : Errno.ENOMEM;
        } finally {
            addressSpaceLock.unlock();
        }
    }

    /**
     * Changes the pages of {@code [start, end)} (all mapped) whose protection differs, one maximal run of
     * them at a time. Pages that have the protection already are left alone and not invalidated, as
     * {@code mprotect_fixup} leaves a VMA whose flags would not change.
     */
    private int protectLocked(long start, long end, Protection protection) {
        for (long[] run : areas.runs(start, end, area -> area.protection() != protection)) {
            int rc = protectRun(run[0], run[1], protection);
            if (rc != 0) {
                return rc;
            }
        }
        return 0;
    }

    private int protectRun(long start, long end, Protection protection) {
        splitVmas(start, end);
        notifier.start(start, end, InvalidationCause.PROTECT);
        try {
            UnaryOperator<Area> lower = part -> part.withProtection(weaker(part.protection(), protection));
            if (areas.update(start, end, lower)) {
                srcu.synchronize();
            }
            int rc = LibC.mprotect(start, end - start, protection.bits());
            if (rc < 0) {
                return -rc;
            }
            areas.update(start, end, part -> part.withProtection(protection));
            return 0;
        } finally {
            notifier.end(start, end, InvalidationCause.PROTECT);
        }
    }

    /**
     * What Linux does before it changes the VMAs of {@code [start, end)}: a VMA (here: an area) that
     * straddles {@code start} or {@code end} is split there, and a split inside a 2 MiB frame the VMA
     * wholly covers first splits any huge page mapping of the frame, which invalidates the whole frame,
     * huge page or not ({@link InvalidationCause#HUGE_PAGE_SPLIT}). So an {@code mprotect} of one page in the
     * middle of a 2 MiB-aligned mapping drops guest mappings of all 512 pages around it. The split at
     * {@code end} sees the VMA as the split at {@code start} left it. Adjacent mappings are separate areas
     * here where the kernel may have merged them into one VMA; where that matters depends on where the
     * kernel placed them.
     */
    private void splitVmas(long start, long end) {
        Area first = areas.find(start);
        if (first != null && Long.compareUnsigned(first.start(), start) < 0) {
            splitFrame(start, first.start(), first.end());
        }
        Area last = areas.find(end - 1);
        if (last != null && Long.compareUnsigned(last.end(), end) > 0) {
            splitFrame(end, Math.max(last.start(), start), last.end());
        }
    }

    /** Splits the frame around {@code at} if {@code at} is not a frame boundary and the VMA covers the frame. */
    private void splitFrame(long at, long vmaStart, long vmaEnd) {
        long size = SplitHugePages.FRAME_SIZE;
        long frame = at & -size;
        if (frame != at && frame >= vmaStart && frame + size <= vmaEnd) {
            announceHugePageSplit(frame);
        }
    }

    private static Protection weaker(Protection a, Protection b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    /**
     * Unmaps every mapping this object created (listeners are notified as for {@link #munmap}). The
     * object then stays usable as an empty address space, except that {@link #mmap} throws.
     * Idempotent.
     */
    @Override
    public void close() {
        addressSpaceLock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            for (long[] run : areas.coveredRuns(0, TASK_SIZE)) {
                unmapLocked(run[0], run[1]);
            }
            for (long[] range : reservations.drain()) {
                LibC.munmap(range[0], range[1] - range[0]);
            }
        } finally {
            addressSpaceLock.unlock();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Accessors (lock-free; an SRCU read section each)

    /**
     * Host 64-bit load (native byte order).
     *
     * @throws IllegalArgumentException if {@code hva} is not 8-byte aligned
     * @throws HostFault                if the page is not mapped or not readable
     */
    public long read64(long hva) {
        requireAligned8(hva);
        int token = srcu.readLock();
        try {
            accessible(hva, hva, false);
            return EVERYTHING.get(ValueLayout.JAVA_LONG, hva);
        } finally {
            srcu.readUnlock(token);
        }
    }

    /**
     * Host 64-bit store (native byte order); marks the page written, first breaking its copy-on-write
     * (see the class documentation) if it had not been written.
     *
     * @throws IllegalArgumentException if {@code hva} is not 8-byte aligned
     * @throws HostFault                if the page is not mapped or not writable
     */
    public void write64(long hva, long value) {
        requireAligned8(hva);
        breakCopyOnWrite(hva, hva + Long.BYTES);
        int token = srcu.readLock();
        try {
            accessible(hva, hva, true);
            EVERYTHING.set(ValueLayout.JAVA_LONG, hva, value);
            written.mark(hva); // set by the break already, unless a discard raced with this store
        } finally {
            srcu.readUnlock(token);
        }
    }

    /**
     * Copies {@code dst.byteSize()} bytes starting at {@code hva} into {@code dst}. The range may span
     * adjacent mappings; it is checked as a whole before any byte is copied.
     *
     * @throws HostFault at the first byte that is not mapped or not readable; {@code dst} is untouched
     */
    public void read(long hva, MemorySegment dst) {
        long length = dst.byteSize();
        if (length == 0) {
            return;
        }
        int token = srcu.readLock();
        try {
            checkRange(hva, length, false);
            MemorySegment.copy(EVERYTHING, hva, dst, 0, length);
        } finally {
            srcu.readUnlock(token);
        }
    }

    /**
     * Copies {@code src} to the memory starting at {@code hva} and marks the pages written, first
     * breaking the copy-on-write of those not written yet. The range may span adjacent mappings; it is
     * checked as a whole before any byte is written.
     *
     * @throws HostFault at the first byte that is not mapped or not writable; memory is untouched
     */
    public void write(long hva, MemorySegment src) {
        long length = src.byteSize();
        if (length == 0) {
            return;
        }
        breakCopyOnWrite(hva, hva + length);
        int token = srcu.readLock();
        try {
            checkRange(hva, length, true);
            MemorySegment.copy(src, 0, EVERYTHING, hva, length);
            written.markRange(hva, hva + length);
        } finally {
            srcu.readUnlock(token);
        }
    }

    /**
     * Resolves the page containing {@code hva} for a guest mapping, as GUP does: {@code write} asks for
     * write access (and then marks the page written). The result is writable iff the protection allows
     * writes and either write access was asked for, or the page has been written since it was last
     * discarded (a never-written anonymous page is the shared zero page, mapped read-only), or it is a
     * page of a shared file mapping (its file page is what gets mapped, never a zero page). See the
     * class documentation for how long the segment may be used.
     *
     * @throws HostFault if the page is not mapped, its protection forbids the access, or its file has
     *                   no page there
     */
    public HostPage resolvePage(long hva, boolean write) {
        long page = hva & ~PAGE_OFFSET_MASK;
        int token = srcu.readLock();
        try {
            Area area = accessible(page, hva, write);
            if (write && !written.isMarked(page)) {
                HvaRange populated = firstWriteRange(page);
                written.markRange(populated.start(), populated.end());
            }
            boolean writable = area.protection().allowsWrite()
                    && (write || area.isFileBacked() || written.isMarked(page));
            return new HostPage(page, EVERYTHING.asSlice(page, PAGE_SIZE), writable);
        } finally {
            srcu.readUnlock(token);
        }
    }

    /**
     * The write fault of a host store to {@code [start, end)} ({@code end} exclusive, wrapping allowed):
     * every maximal run of never-written anonymous pages in it is marked written between an
     * invalidation start and end of that run. Nothing happens if some byte of the range refuses the
     * store (the store then faults and writes nothing) or if every page is written already (the common
     * case, decided without the lock). A discard that comes between this and the store makes the page
     * a zero page again; the store then marks it without invalidating, which is the outcome of a store
     * that wins that race in Linux too (a fresh page, no zero page to replace).
     */
    private void breakCopyOnWrite(long start, long end) {
        if (Long.compareUnsigned(end, start) <= 0 || written.allMarked(start, end)) {
            return;
        }
        addressSpaceLock.lock();
        try {
            // The registry changes only under this lock, so the check stays true until it is released.
            checkRange(start, end - start, true);
            long page = start & ~PAGE_OFFSET_MASK;
            while (Long.compareUnsigned(page, end) < 0) {
                if (!isZeroPage(page)) {
                    page += PAGE_SIZE;
                    continue;
                }
                HvaRange run = firstWriteRange(page);
                if (run.end() - run.start() == PAGE_SIZE) {
                    // A run of small zero pages breaks as one.
                    long runEnd = page + PAGE_SIZE;
                    while (Long.compareUnsigned(runEnd, end) < 0 && isZeroPage(runEnd)
                            && firstWriteRange(runEnd).start() == runEnd) {
                        runEnd += PAGE_SIZE;
                    }
                    run = new HvaRange(page, runEnd);
                }
                notifier.start(run.start(), run.end(), InvalidationCause.COPY_ON_WRITE);
                written.markRange(run.start(), run.end());
                notifier.end(run.start(), run.end(), InvalidationCause.COPY_ON_WRITE);
                page = run.end();
            }
        } catch (HostFault fault) {
            // The store will take this fault itself, having broken nothing.
        } finally {
            addressSpaceLock.unlock();
        }
    }

    /**
     * What the first write to the never-written anonymous page at {@code page} populates: the whole 2 MiB
     * frame when it could be one transparent huge page ({@link #mayMapHuge}) and none of its pages is
     * populated yet, since Linux then allocates a huge page on that fault (replacing the frame's huge zero
     * page, if a read mapped it); else the page alone. The MMU asks before a write fault's GUP, to replay
     * the copy-on-write invalidation over the same range.
     */
    public HvaRange firstWriteRange(long page) {
        long start = page & ~PAGE_OFFSET_MASK;
        long frame = start & -SplitHugePages.FRAME_SIZE;
        long frameEnd = frame + SplitHugePages.FRAME_SIZE;
        if (mayMapHuge(frame, frameEnd) && !written.anyMarked(frame, frameEnd)) {
            return new HvaRange(frame, frameEnd);
        }
        return new HvaRange(start, start + PAGE_SIZE);
    }

    /** Whether the mapped page at {@code page} is anonymous and still reads as the zero page. */
    private boolean isZeroPage(long page) {
        return !areas.find(page).isFileBacked() && !written.isMarked(page);
    }

    // ---------------------------------------------------------------------------------------------
    // Observation

    /**
     * The live part of the mapping containing {@code hva}: the contiguous pages around it that the same
     * {@link #mmap} created and that are still mapped, whatever their protection. Empty if unmapped.
     * Lock-free; concurrent with a change it reports the state before or after it.
     */
    public Optional<MappingInfo> mappingAt(long hva) {
        long[] extent = areas.mappingExtent(hva);
        return extent == null ? Optional.empty() : Optional.of(new MappingInfo(extent[0], extent[1] - extent[0]));
    }

    /** The protection of the page containing {@code hva}, or empty if it is not mapped. */
    public Optional<Protection> protectionAt(long hva) {
        Area area = areas.find(hva);
        return area == null ? Optional.empty() : Optional.of(area.protection());
    }

    /** Whether the page containing {@code hva} is mapped with {@code MADV_HUGEPAGE} in effect. */
    public boolean isHugeAdvised(long hva) {
        Area area = areas.find(hva);
        return area != null && area.hugeAdvised();
    }

    /**
     * Whether every page of {@code [start, end)} is mapped with {@code MADV_HUGEPAGE} in effect (for
     * example a whole 2 MiB frame, before the MMU maps it huge). False for an empty range.
     */
    public boolean isHugeAdvised(long start, long end) {
        return Long.compareUnsigned(start, end) < 0 && areas.allHugeAdvised(start, end);
    }

    /**
     * Whether {@code [start, end)} (for example a 2 MiB frame) lies inside one area of one mapping with
     * {@code MADV_HUGEPAGE} in effect: where Linux could map a transparent huge page with one PMD. A frame
     * cut into areas of different protection or advice is never PMD-mapped (splitting the VMA split the
     * huge page), nor is one whose huge page a partial discard split, so KVM maps those at 4 KiB. False for
     * an empty range.
     */
    public boolean mayMapHuge(long start, long end) {
        Area area = areas.find(start);
        return area != null && area.hugeAdvised() && Long.compareUnsigned(start, end) < 0
                && Long.compareUnsigned(end, area.end()) <= 0 && !splitHugePages.isSplit(start);
    }

    /**
     * Whether the page containing {@code hva} is mapped and has been written (by {@link #write64},
     * {@link #write} or a write {@link #resolvePage}) since it was mapped or last discarded.
     */
    public boolean isWrittenSinceDiscard(long hva) {
        return areas.find(hva) != null && written.isMarked(hva);
    }

    /** Number of registry areas (diagnostics and tests: it shows splitting and merging). */
    int areaCount() {
        return areas.size();
    }

    // ---------------------------------------------------------------------------------------------
    // Listeners

    /** Subscribes {@code listener} to every later invalidation. */
    public void addInvalidationListener(InvalidationListener listener) {
        addressSpaceLock.lock();
        try {
            notifier.add(listener);
        } finally {
            addressSpaceLock.unlock();
        }
    }

    /** Unsubscribes {@code listener} (no effect if it is not subscribed). */
    public void removeInvalidationListener(InvalidationListener listener) {
        addressSpaceLock.lock();
        try {
            notifier.remove(listener);
        } finally {
            addressSpaceLock.unlock();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Helpers

    /**
     * The area allowing the access at {@code hva}; faults (reporting {@code reported}) otherwise. The
     * protection is checked before the file's page, as the real fault path does (SIGSEGV before SIGBUS).
     */
    private Area accessible(long hva, long reported, boolean write) {
        Area area = areas.find(hva);
        if (area == null) {
            throw new HostFault(reported, HostFault.Kind.UNMAPPED);
        }
        Protection protection = area.protection();
        if (write ? !protection.allowsWrite() : !protection.allowsRead()) {
            throw new HostFault(reported, HostFault.Kind.PROTECTION);
        }
        if (area.raisesBus(hva)) {
            throw new HostFault(reported, HostFault.Kind.BUS);
        }
        return area;
    }

    /** Checks that every byte of {@code [hva, hva + length)} allows the access, area by area. */
    private void checkRange(long hva, long length, boolean write) {
        long end = hva + length;
        if (Long.compareUnsigned(end, hva) < 0) {
            end = -1L; // wraps: no area reaches that far, so the walk faults first
        }
        for (long cursor = hva; Long.compareUnsigned(cursor, end) < 0; ) {
            Area area = accessible(cursor, cursor, write);
            // A file's fault limit can lie inside the area: the range must stop short of it.
            if (Long.compareUnsigned(area.faultLimit(), area.end()) < 0
                    && Long.compareUnsigned(end, area.faultLimit()) > 0) {
                throw new HostFault(area.faultLimit(), HostFault.Kind.BUS);
            }
            cursor = area.end();
        }
    }

    private static void requireAligned8(long hva) {
        if ((hva & 7) != 0) {
            throw new IllegalArgumentException("hva 0x" + Long.toHexString(hva) + " is not 8-byte aligned");
        }
    }

    /** {@code PAGE_ALIGN}: rounds up to a page multiple, wrapping to 0 like the kernel's macro. */
    private static long pageAlign(long length) {
        return (length + PAGE_OFFSET_MASK) & ~PAGE_OFFSET_MASK;
    }
}
