package dev.guestmem.vm;

import static dev.guestmem.memslot.KvmLimits.PAGE_SIZE;

import dev.guestmem.Errno;
import dev.guestmem.dirty.DirtyLog;
import dev.guestmem.gmem.GmemFaultSource;
import dev.guestmem.gmem.GmemInvalidationTarget;
import dev.guestmem.gmem.GuestMemfd;
import dev.guestmem.gmem.MemoryAttributes;
import dev.guestmem.host.FileStat;
import dev.guestmem.host.HostMemory;
import dev.guestmem.host.SyscallException;
import dev.guestmem.memslot.KvmLimits;
import dev.guestmem.memslot.Memslot;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.memslot.MemslotSet;
import dev.guestmem.memslot.MemslotStore;
import dev.guestmem.mmu.FaultHandler;
import dev.guestmem.mmu.MmuMemslotHooks;
import dev.guestmem.mmu.TdpMmu;
import dev.guestmem.mmu.VmStats;
import dev.guestmem.notifier.ActiveInvalidations;
import dev.guestmem.notifier.GmemMmuInvalidation;
import dev.guestmem.notifier.MmuNotifier;
import dev.guestmem.notifier.RangeOp;
import dev.guestmem.notifier.RangeWalker;
import dev.guestmem.notifier.WalkResult;
import dev.guestmem.sync.Srcu;
import dev.guestmem.vcpu.MmuVcpu;
import dev.guestmem.vcpu.VcpuSet;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The pure-Java KVM: a VM whose memslots live in a {@link MemslotStore} of the chosen design and whose
 * memory is real host memory. Thread-safe: memslot updates serialize on the slots lock, guest accesses
 * run lock-free inside SRCU read sections.
 */
public final class EngineVm implements Vm {
    private final HostMemory host;
    private final boolean ownsHost;
    private final FileTable files;
    private final VmType type;
    private final boolean smm;
    private final Srcu srcu = new Srcu();
    private final MemslotStore store;
    private final MemoryRegionUpdater regions;
    /** The TDP MMU, its fault path, the vCPUs it flushes, and the notifier keeping it coherent with the host. */
    private final TdpMmu mmu;
    private final Quirks quirks;
    private final VcpuSet vcpus;
    private final RangeWalker rangeWalker;
    private final MmuNotifier notifier;
    /** Memory attributes, VM-wide per gfn (spec §5.7). */
    private final MemoryAttributes attributes;
    /** The guest_memfd side of the fault path (spec §5.8). */
    private final GmemFaultSource gmemFaults;
    /**
     * Where guest_memfd and attribute invalidations zap guest mappings: the MMU, which zaps and flushes
     * inside an invalidation window.
     */
    private final GmemInvalidationTarget gmemTarget;
    /** Dirty logging: bitmaps, rings, GET/CLEAR and the tracker the MMU reports writable mappings to. */
    private final DirtyLog dirtyLog;
    /** Whether {@link #files} is this VM's alone, so that closing the VM closes them (process exit). */
    private final boolean ownsFiles;
    private volatile boolean dead;

    /** A VM in {@code host}'s address space with its own file table. */
    public EngineVm(HostMemory host, VmType type, MemslotImpl impl) {
        this(host, new FileTable(), VmConfig.of(type, impl), false, true);
    }

    /** A VM in {@code host}'s address space sharing the process file table {@code files}. */
    public EngineVm(HostMemory host, FileTable files, VmType type, MemslotImpl impl) {
        this(host, files, VmConfig.of(type, impl), false, false);
    }

    /** A VM built as {@code config} says, in {@code host}'s address space, sharing {@code files}. */
    public EngineVm(HostMemory host, FileTable files, VmConfig config) {
        this(host, files, config, false, false);
    }

    private EngineVm(HostMemory host, FileTable files, VmConfig config, boolean ownsHost, boolean ownsFiles) {
        this.host = host;
        this.files = files;
        this.ownsFiles = ownsFiles;
        this.type = config.type();
        this.smm = config.smm();
        this.ownsHost = ownsHost;
        // Memslot publications wait for in-flight MMU-notifier invalidations (spec §2.5 step 2).
        ActiveInvalidations invalidations = new ActiveInvalidations();
        this.store = config.impl().create(config.addressSpaces(), srcu, invalidations);
        this.attributes = new MemoryAttributes(type.hasPrivateMemory());
        this.gmemFaults = new GmemFaultSource(attributes);
        this.mmu = new TdpMmu(config.mmu());
        this.quirks = new Quirks(config.mmu().slotZapAll());
        this.gmemTarget = new GmemMmuInvalidation(mmu);
        FaultHandler faults = new FaultHandler(mmu, store, srcu, host, gmemFaults);
        this.vcpus = new VcpuSet(mmu, faults);
        mmu.setTlbFlusher(vcpus);
        this.rangeWalker = new RangeWalker(srcu, store, mmu);
        this.notifier = new MmuNotifier(mmu, rangeWalker, invalidations);
        faults.setCopyOnWriteListener(notifier::copyOnWriteBroken);
        // kvm->slots_lock, shared by memslot updates and the dirty-log ioctls (INV-B, mmu.md §3.3).
        ReentrantLock slotsLock = new ReentrantLock();
        this.dirtyLog = new DirtyLog(store, srcu, host, slotsLock, mmu, vcpus, faults.hugePages(),
                new MmuMemslotHooks(mmu, store, quirks));
        mmu.setDirtyTracker(dirtyLog.tracker());
        this.regions = new MemoryRegionUpdater(this, type, store, files, dirtyLog.memslotHooks(), slotsLock,
                dirtyLog.bitmaps());
        if (host != null) { // null only for memslot-layer tests that never touch guest memory
            host.addInvalidationListener(notifier);
        }
    }

    /** A VM with a host address space of its own, closed together with the VM. */
    public static EngineVm create(VmType type, MemslotImpl impl) {
        return create(VmConfig.of(type, impl));
    }

    /** A VM built as {@code config} says, with a host address space of its own. */
    public static EngineVm create(VmConfig config) {
        return new EngineVm(new HostMemory(), new FileTable(), config, true, true);
    }

    @Override
    public VmType type() {
        return type;
    }

    @Override
    public HostMemory host() {
        return host;
    }

    /** The memslot design in use. */
    public MemslotImpl memslotImpl() {
        return store.impl();
    }

    @Override
    public long checkExtension(int capability) {
        return switch (capability) {
            case Capability.USER_MEMORY, Capability.SYNC_MMU, Capability.READONLY_MEM, Capability.USER_MEMORY2,
                    Capability.GUEST_MEMFD -> 1;
            case Capability.NR_MEMSLOTS -> KvmLimits.USER_MEM_SLOTS;
            // The capability exists only where the host supports more than one address space.
            case Capability.MULTI_ADDRESS_SPACE -> smm ? store.addressSpaces() : 0;
            case Capability.GUEST_MEMFD_FLAGS -> supportedGmemFlags();
            case Capability.MEMORY_ATTRIBUTES -> attributes.supported();
            case Capability.MEMORY_FAULT_INFO -> 1;
            case Capability.MANUAL_DIRTY_LOG_PROTECT2, Capability.DIRTY_LOG_RING, Capability.DIRTY_LOG_RING_ACQ_REL ->
                dirtyLog.checkExtension(capability);
            case Capability.VM_TYPES -> (1L << VmType.DEFAULT.number()) | (1L << VmType.SW_PROTECTED.number());
            case Capability.DISABLE_QUIRKS -> 1;
            case Capability.DISABLE_QUIRKS2 -> Quirks.SUPPORTED;
            default -> 0;
        };
    }

    @Override
    public int setUserMemoryRegion(int slot, int flags, long guestPhysAddr, long memorySize, long userspaceAddr) {
        return setRegion(RegionRequest.v1(slot, flags, guestPhysAddr, memorySize, userspaceAddr));
    }

    @Override
    public int setUserMemoryRegion2(int slot, int flags, long guestPhysAddr, long memorySize, long userspaceAddr,
            int guestMemfd, long guestMemfdOffset) {
        return setRegion(new RegionRequest(true, slot, flags, guestPhysAddr, memorySize, userspaceAddr, guestMemfd,
                guestMemfdOffset));
    }

    /** Either set-memory-region ioctl; every VM ioctl on a destroyed VM is {@code EIO} (spec §1.1 step 0). */
    public int setRegion(RegionRequest request) {
        return dead ? Errno.EIO : regions.apply(request);
    }

    @Override
    public int enableCap(int capability, long arg0) {
        if (dead) {
            return Errno.EIO;
        }
        return switch (capability) {
            case Capability.DISABLE_QUIRKS, Capability.DISABLE_QUIRKS2 -> quirks.disable(capability, arg0);
            default -> dirtyLog.enableCap(capability, arg0);
        };
    }

    @Override
    public int getDirtyLog(int slot, long[] bitmap) {
        return dead ? Errno.EIO : dirtyLog.getDirtyLog(slot, bitmap);
    }

    @Override
    public int clearDirtyLog(int slot, long firstPage, int numPages, long[] bitmap) {
        return dead ? Errno.EIO : dirtyLog.clearDirtyLog(slot, firstPage, numPages, bitmap);
    }

    @Override
    public int resetDirtyRings() {
        return dead ? -Errno.EIO : dirtyLog.resetDirtyRings();
    }

    /**
     * This VM's dirty logging: the dirty ring of a vCPU as userspace maps it ({@link DirtyLog#ring}), the
     * VMM-side guest write API whose writes are logged ({@link DirtyLog#writer}), counters.
     */
    public DirtyLog dirtyLog() {
        return dirtyLog;
    }

    /**
     * {@code kvm_write_guest}: writes {@code src} to guest memory at {@code gpa} through the memslots of
     * address space 0, on the guest's behalf (device emulation); the pages are logged like guest stores
     * (KDL-07). Returns 0, or {@code EFAULT} at the first page without a writable slot (earlier pages stay
     * written).
     */
    public int writeGuest(long gpa, MemorySegment src) {
        return dirtyLog.writer().write(gpa, src);
    }

    /** {@link #writeGuest} of one 64-bit word (native byte order). */
    public int writeGuest64(long gpa, long value) {
        return dirtyLog.writer().write64(gpa, value);
    }

    @Override
    public int createGuestMemfd(long size, long flags) {
        if (dead) {
            return -Errno.EIO;
        }
        // Spec §5.1: unknown flags first, then a size that is not positive or not page aligned.
        if ((flags & ~supportedGmemFlags()) != 0 || size <= 0 || (size & (PAGE_SIZE - 1)) != 0) {
            return -Errno.EINVAL;
        }
        try {
            return files.install(GuestMemfd.create(this, size, flags, gmemTarget));
        } catch (SyscallException e) {
            return -e.errno();
        }
    }

    /** v6.18: MMAP always; INIT_SHARED only for VM types without private memory. */
    private long supportedGmemFlags() {
        return GuestMemfd.FLAG_MMAP | (type.hasPrivateMemory() ? 0 : GuestMemfd.FLAG_INIT_SHARED);
    }

    /**
     * {@inheritDoc}
     *
     * <p>A file operation, not a VM ioctl: it works after the VM is closed (the file holds the VM).
     */
    @Override
    public int fallocate(int fd, int mode, long offset, long length) {
        Object file = files.get(fd);
        return file instanceof GuestMemfd gmem ? gmem.fallocate(mode, offset, length) : notGuestMemfd(file);
    }

    @Override
    public long fstat(int fd) {
        return stat(fd).map(FileStat::size).orElse((long) -Errno.EBADF);
    }

    /** {@code fstat(2)} of guest_memfd {@code fd}: size, block size and inode; empty if it is not open. */
    public Optional<FileStat> stat(int fd) {
        return files.get(fd) instanceof GuestMemfd gmem ? gmem.stat() : Optional.empty();
    }

    /** {@code ftruncate(2)} of guest_memfd {@code fd}: always {@code EINVAL}, its size is immutable (KGM-07). */
    public int ftruncate(int fd, long length) {
        Object file = files.get(fd);
        return file instanceof GuestMemfd gmem ? gmem.ftruncate(length) : notGuestMemfd(file);
    }

    /**
     * {@code read}, {@code write}, {@code pread} or {@code pwrite} of guest_memfd {@code fd}: always
     * {@code -EINVAL}, the file has no such operations (GMF-04).
     */
    public long readOrWrite(int fd) {
        Object file = files.get(fd);
        return file instanceof GuestMemfd gmem ? gmem.readOrWrite() : -notGuestMemfd(file);
    }

    /**
     * {@inheritDoc}
     *
     * <p>The last close of a guest_memfd releases it (spec §5.2, KGM-10): under the owner's slots lock
     * every bound slot forgets it and its mappings are invalidated; after a grace period of the owner's
     * guest accesses its memory is unmapped from the engine. Host mappings of it stay valid.
     */
    @Override
    public int close(int fd) {
        Object file = files.remove(fd);
        if (file == null) {
            return Errno.EBADF;
        }
        if (file instanceof GuestMemfd gmem && gmem.owner() instanceof EngineVm owner) {
            owner.release(gmem);
        }
        return 0;
    }

    private void release(GuestMemfd gmem) {
        ReentrantLock slotsLock = regions.slotsLock();
        slotsLock.lock();
        try {
            gmem.release();
        } finally {
            slotsLock.unlock();
        }
        srcu.synchronize();
        gmem.retire();
    }

    /**
     * {@inheritDoc}
     *
     * <p>Into {@link #host()}; see {@link GuestMemfd#mmap} for the rules.
     */
    @Override
    public long mmap(int fd, long size, boolean shared) {
        Object file = files.get(fd);
        return file instanceof GuestMemfd gmem ? gmem.mmap(host, size, shared) : -notGuestMemfd(file);
    }

    /** A closed fd is {@code EBADF}; any other file the engine knows cannot do guest_memfd things. */
    private static int notGuestMemfd(Object file) {
        return file == null ? Errno.EBADF : Errno.ENODEV;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Serialized with memslot updates by the slots lock; changed gfns are zapped in every slot of
     * every address space they lie in, through the MMU's gfn-range walker (spec §5.7).
     */
    @Override
    public int setMemoryAttributes(long gpa, long size, long attrs, long flags) {
        if (dead) {
            return Errno.EIO;
        }
        ReentrantLock slotsLock = regions.slotsLock();
        slotsLock.lock();
        try {
            return attributes.set(gpa, size, attrs, flags, this::invalidateForAttributes);
        } finally {
            slotsLock.unlock();
        }
    }

    /**
     * The two walks of {@code kvm_vm_set_mem_attributes} (spec §3.6, §5.7) on the MMU's gfn-range walker:
     * the first opens the invalidation window on the first slot it meets and adds each slot's part of
     * the range to it while zapping it (shared and private mappings alike), flushing before it lets go
     * of the MMU lock; then the attributes change; the second walk closes the window. The slots lock
     * keeps the memslots still, so both walks meet the same slots and begin and end pair up; a range no
     * slot touches opens no window at all.
     */
    private boolean invalidateForAttributes(long start, long end, Runnable change) {
        WalkResult begun = rangeWalker.walkGfn(new RangeOp(start, end,
                range -> mmu.unmapGfnRange(range.start(), range.end(), range.mayBlock()) ? 1 : 0,
                mmu::invalidateBegin, true, true, true, 0));
        change.run();
        rangeWalker.walkGfn(new RangeOp(start, end, null, mmu::invalidateEnd, false, true, true, 0));
        return begun.foundMemslot();
    }

    /** The memory attributes of {@code gfn} (0: shared). There is no such ioctl; for tests and tools. */
    public long memoryAttributes(long gfn) {
        return attributes.get(gfn);
    }

    /** The guest_memfd side of this VM's fault path, for its MMU. */
    public GmemFaultSource gmemFaults() {
        return gmemFaults;
    }

    @Override
    public Vcpu vcpu(int id) {
        return vcpus.getOrCreate(id);
    }

    /** The vCPUs created so far. */
    public List<MmuVcpu> vcpus() {
        return vcpus.all();
    }

    /** The VM's TDP MMU (zaps, write protection and the dirty-tracking hook for other layers). */
    public TdpMmu mmu() {
        return mmu;
    }

    /** The VM's MMU notifier (also the aging callbacks, which the host has no syscall for). */
    public MmuNotifier mmuNotifier() {
        return notifier;
    }

    /** The walker over the memslots of an hva or gfn range (spec §3.2, §3.6, §3.7). */
    public RangeWalker rangeWalker() {
        return rangeWalker;
    }

    @Override
    public Optional<VmStats> stats() {
        return Optional.of(mmu.counters().snapshot(mmu.liveTables(), vcpus.stats()));
    }

    @Override
    public Optional<SlotInfo> slot(int slot) {
        int asId = slot >>> 16;
        if (asId >= store.addressSpaces()) {
            return Optional.empty();
        }
        int token = srcu.readLock();
        try {
            Memslot s = store.active(asId).byId(slot & 0xFFFF);
            return Optional.ofNullable(s).map(EngineVm::info);
        } finally {
            srcu.readUnlock(token);
        }
    }

    private static SlotInfo info(Memslot s) {
        long pgoff = s.gmem() == null ? 0 : s.gmem().pgoff();
        return new SlotInfo(s.asId(), s.id(), s.baseGfn(), s.npages(), s.flags(), s.userspaceAddr(), pgoff);
    }

    @Override
    public long memslotGeneration(int asId) {
        if (asId < 0 || asId >= store.addressSpaces()) {
            throw new IllegalArgumentException("no address space " + asId + " in this VM");
        }
        int token = srcu.readLock();
        try {
            MemslotSet set = store.active(asId);
            return set.generation();
        } finally {
            srcu.readUnlock(token);
        }
    }

    @Override
    public void close() {
        dead = true;
        if (ownsFiles) {
            closeOwnFiles();
        }
        // Drop every translation (and flush) before leaving the host: once unsubscribed, the MMU would no
        // longer hear of unmaps, so nothing may still map host memory by then.
        mmu.destroy();
        if (host != null) {
            host.removeInvalidationListener(notifier);
        }
        if (ownsHost) {
            host.close();
        }
    }

    /** Like a process exiting: every guest_memfd this VM created and nobody closed is closed now. */
    private void closeOwnFiles() {
        for (int fd : files.fds()) {
            if (files.get(fd) instanceof GuestMemfd gmem && gmem.owner() == this) {
                close(fd);
            }
        }
    }
}
