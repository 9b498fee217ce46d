package dev.guestmem.dirty;

import dev.guestmem.Errno;
import dev.guestmem.host.HostMemory;
import dev.guestmem.memslot.MemslotStore;
import dev.guestmem.mmu.DirtyTracker;
import dev.guestmem.mmu.HugePagePolicy;
import dev.guestmem.mmu.TdpMmu;
import dev.guestmem.sync.Srcu;
import dev.guestmem.vcpu.VcpuSet;
import dev.guestmem.vm.Capability;
import dev.guestmem.vm.MemslotUpdateHooks;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Dirty logging of one engine VM (spec §4, mmu.md §3): the capabilities, the bitmaps memslot updates
 * allocate, the hook the MMU reports writable mappings through, the GET / CLEAR / ring-reset ioctls and
 * the per-vCPU rings. {@link dev.guestmem.vm.EngineVm} wires it and forwards the ioctls.
 */
public final class DirtyLog {
    private final DirtyLogCaps caps = new DirtyLogCaps();
    private final VcpuSet vcpus;
    private final DirtyRings rings;
    private final DirtyMarker marker;
    private final DirtyBitmapAllocator bitmaps;
    private final DirtyLoggingHooks hooks;
    private final DirtyLogIoctls ioctls;
    private final GuestWriter writer;

    /**
     * Dirty logging over {@code store}'s memslots, serialized by {@code slotsLock} ({@code kvm->slots_lock},
     * shared with memslot updates), protecting through {@code mmu}, recovering huge pages with
     * {@code hugePages}; {@code mmuHooks} are the MMU's own memslot hooks, which {@link #memslotHooks()}
     * wraps.
     */
    public DirtyLog(MemslotStore store, Srcu srcu, HostMemory host, ReentrantLock slotsLock, TdpMmu mmu,
            VcpuSet vcpus, HugePagePolicy hugePages, MemslotUpdateHooks mmuHooks) {
        this.vcpus = vcpus;
        this.rings = new DirtyRings(caps, vcpus);
        this.marker = new DirtyMarker(caps, rings);
        this.bitmaps = new DirtyBitmapAllocator(caps);
        this.hooks = new DirtyLoggingHooks(mmuHooks, mmu, hugePages, caps);
        this.ioctls = new DirtyLogIoctls(caps, rings, store, slotsLock, mmu);
        this.writer = new GuestWriter(store, srcu, host, marker);
    }

    /** {@code mark_page_dirty_in_slot}, for the MMU ({@link TdpMmu#setDirtyTracker}). */
    public DirtyTracker tracker() {
        return marker;
    }

    /** The bitmap decision memslot updates make before the arch prepare (spec §4.1). */
    public DirtyBitmapAllocator bitmaps() {
        return bitmaps;
    }

    /** The MMU's memslot hooks plus the dirty-logging commit (counter, logging on/off). */
    public MemslotUpdateHooks memslotHooks() {
        return hooks;
    }

    /** The VMM-side guest write API ({@code kvm_write_guest}); its writes are logged. */
    public GuestWriter writer() {
        return writer;
    }

    /** {@code KVM_CHECK_EXTENSION} for the dirty-logging capabilities (0 for others). */
    public long checkExtension(int capability) {
        return DirtyLogCaps.checkExtension(capability);
    }

    /**
     * {@code KVM_ENABLE_CAP} of {@code MANUAL_DIRTY_LOG_PROTECT2}, {@code DIRTY_LOG_RING} or
     * {@code DIRTY_LOG_RING_ACQ_REL}; {@code EINVAL} for any other capability (x86's answer to the obsolete
     * {@code MANUAL_DIRTY_LOG_PROTECT} and to {@code DIRTY_LOG_RING_WITH_BITMAP}, which is arm64-only).
     */
    public int enableCap(int capability, long arg0) {
        return switch (capability) {
            case Capability.MANUAL_DIRTY_LOG_PROTECT2 -> caps.enableManualProtect(arg0);
            case Capability.DIRTY_LOG_RING, Capability.DIRTY_LOG_RING_ACQ_REL -> {
                // kvm->lock: excludes vCPU creation, which takes the vCPU set's monitor.
                synchronized (vcpus) {
                    yield caps.enableRing(arg0, !vcpus.all().isEmpty());
                }
            }
            default -> Errno.EINVAL;
        };
    }

    /** {@code KVM_GET_DIRTY_LOG} (spec §4.3); see {@link dev.guestmem.vm.Vm#getDirtyLog}. */
    public int getDirtyLog(int slot, long[] bitmap) {
        return ioctls.get(slot, bitmap);
    }

    /** {@code KVM_CLEAR_DIRTY_LOG} (spec §4.4); see {@link dev.guestmem.vm.Vm#clearDirtyLog}. */
    public int clearDirtyLog(int slot, long firstPage, int numPages, long[] bitmap) {
        return ioctls.clear(slot, firstPage, numPages, bitmap);
    }

    /** {@code KVM_RESET_DIRTY_RINGS} (spec §4.6): entries freed, or {@code -EINVAL} without rings. */
    public int resetDirtyRings() {
        return ioctls.resetRings();
    }

    /**
     * The dirty ring of vCPU {@code vcpuId}, as userspace maps it from the vCPU fd.
     *
     * @throws IllegalStateException if rings are not enabled
     */
    public DirtyRing ring(int vcpuId) {
        return rings.ring(vcpuId);
    }

    /** The current capabilities (manual protection, rings). */
    public DirtyLogCaps caps() {
        return caps;
    }

    /** Counters of this VM's dirty logging. */
    public DirtyLogStats stats() {
        return new DirtyLogStats(hooks.loggingSlots(), marker.lostWithoutVcpu(), rings.overflows());
    }
}
