package dev.guestmem.vm;

import static dev.guestmem.memslot.KvmLimits.PAGE_SIZE;

import dev.guestmem.Errno;
import dev.guestmem.gmem.GuestMemfd;
import dev.guestmem.host.HostMemory;
import dev.guestmem.memslot.KvmLimits;
import dev.guestmem.memslot.Memslot;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.memslot.MemslotSet;
import dev.guestmem.memslot.MemslotStore;
import dev.guestmem.memslot.PublishBarrier;
import dev.guestmem.sync.Srcu;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

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
    private final Map<Integer, Vcpu> vcpus = new ConcurrentHashMap<>();
    private volatile boolean dead;

    /** A VM in {@code host}'s address space with its own file table. */
    public EngineVm(HostMemory host, VmType type, MemslotImpl impl) {
        this(host, new FileTable(), VmConfig.of(type, impl), false);
    }

    /** A VM in {@code host}'s address space sharing the process file table {@code files}. */
    public EngineVm(HostMemory host, FileTable files, VmType type, MemslotImpl impl) {
        this(host, files, VmConfig.of(type, impl), false);
    }

    /** A VM built as {@code config} says, in {@code host}'s address space, sharing {@code files}. */
    public EngineVm(HostMemory host, FileTable files, VmConfig config) {
        this(host, files, config, false);
    }

    private EngineVm(HostMemory host, FileTable files, VmConfig config, boolean ownsHost) {
        this.host = host;
        this.files = files;
        this.type = config.type();
        this.smm = config.smm();
        this.ownsHost = ownsHost;
        this.store = config.impl().create(config.addressSpaces(), srcu, PublishBarrier.NONE);
        this.regions = new MemoryRegionUpdater(this, type, store, files, MemslotUpdateHooks.NONE);
    }

    /** A VM with a host address space of its own, closed together with the VM. */
    public static EngineVm create(VmType type, MemslotImpl impl) {
        return create(VmConfig.of(type, impl));
    }

    /** A VM built as {@code config} says, with a host address space of its own. */
    public static EngineVm create(VmConfig config) {
        return new EngineVm(new HostMemory(), new FileTable(), config, true);
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
            case Capability.VM_TYPES -> (1L << VmType.DEFAULT.number()) | (1L << VmType.SW_PROTECTED.number());
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
    public int createGuestMemfd(long size, long flags) {
        if (dead) {
            return -Errno.EIO;
        }
        // Spec §5.1: unknown flags first, then a size that is not positive or not page aligned.
        if ((flags & ~supportedGmemFlags()) != 0 || size <= 0 || (size & (PAGE_SIZE - 1)) != 0) {
            return -Errno.EINVAL;
        }
        return files.install(new GuestMemfd(this, size, flags));
    }

    /** v6.18: MMAP always; INIT_SHARED only for VM types without private memory. */
    private long supportedGmemFlags() {
        return GuestMemfd.FLAG_MMAP | (type.hasPrivateMemory() ? 0 : GuestMemfd.FLAG_INIT_SHARED);
    }

    @Override
    public Vcpu vcpu(int id) {
        return vcpus.computeIfAbsent(id, i -> new DirectVcpu(i, srcu, store, host));
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
        if (ownsHost) {
            host.close();
        }
    }
}
