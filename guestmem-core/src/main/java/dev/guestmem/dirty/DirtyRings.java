package dev.guestmem.dirty;

import dev.guestmem.vcpu.MmuVcpu;
import dev.guestmem.vcpu.VcpuSet;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The per-vCPU dirty rings of a VM (spec §4.6). A vCPU's ring exists from its creation on when rings
 * are enabled (they can only be enabled before the first vCPU); here it is made on first use, which
 * nobody can tell apart. A vCPU whose ring reaches the soft limit is asked to exit with
 * {@code KVM_EXIT_DIRTY_RING_FULL} at its next guest entry, and keeps exiting until a reset brings the
 * ring below the limit ({@link MmuVcpu#requestDirtyRingExit}).
 */
final class DirtyRings {
    private final DirtyLogCaps caps;
    private final VcpuSet vcpus;
    private final ConcurrentMap<Integer, DirtyRing> rings = new ConcurrentHashMap<>();

    DirtyRings(DirtyLogCaps caps, VcpuSet vcpus) {
        this.caps = caps;
        this.vcpus = vcpus;
    }

    /** The ring of vCPU {@code vcpuId}; rings must be enabled. */
    DirtyRing ring(int vcpuId) {
        if (!caps.ringsEnabled()) {
            throw new IllegalStateException("dirty rings are not enabled");
        }
        return rings.computeIfAbsent(vcpuId, id -> new DirtyRing(caps.ringEntries()));
    }

    /**
     * {@code kvm_get_running_vcpu()}: the vCPU the calling thread is running (in {@code KVM_RUN} or one
     * of its accesses), or null.
     */
    MmuVcpu runningVcpu() {
        for (MmuVcpu v : vcpus.all()) {
            if (v.drivenByCurrentThread()) {
                return v;
            }
        }
        return null;
    }

    /** Pushes {@code (slot, offset)} to {@code vcpu}'s ring and asks it to exit if the ring is soft-full. */
    void push(MmuVcpu vcpu, int slot, long offset) {
        DirtyRing ring = ring(vcpu.id());
        if (ring.push(slot, offset)) {
            vcpu.requestDirtyRingExit(ring::softFull);
        }
    }

    /** Every ring made so far. */
    List<DirtyRing> all() {
        return List.copyOf(rings.values());
    }

    /** Pushes that found a ring completely full, over all rings (must stay 0). */
    long overflows() {
        return rings.values().stream().mapToLong(DirtyRing::overflows).sum();
    }
}
