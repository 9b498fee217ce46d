package dev.guestmem.mmu;

/**
 * A vCPU's statistics as it counts them ({@code struct kvm_vcpu_stat}). Written only by the thread
 * driving the vCPU (a volatile read-increment-write is exact with one writer), readable from any
 * thread through {@link #snapshot()}.
 */
public final class VcpuCounters {
    volatile long pfTaken;
    volatile long pfFixed;
    volatile long pfFast;
    volatile long pfSpurious;
    volatile long pfEmulate;
    volatile long pfMmioSpteCreated;
    volatile long pfRetry;
    volatile long mmioExits;
    volatile long efaultExits;
    volatile long tlbFlush;
    volatile long exits;
    volatile long tlbMisses;

    /** A guest-mode exit (kick, fault or request). */
    public void countExit() {
        exits = exits + 1;
    }

    /** The TLB and paging-structure caches were dropped. */
    public void countTlbFlush() {
        tlbFlush = tlbFlush + 1;
    }

    /** A hardware page walk (TLB miss). */
    public void countTlbMiss() {
        tlbMisses = tlbMisses + 1;
    }

    /** An exit to userspace for MMIO. */
    public void countMmioExit() {
        mmioExits = mmioExits + 1;
    }

    /** {@code KVM_RUN} failed with EFAULT. */
    public void countEfault() {
        efaultExits = efaultExits + 1;
    }

    /** The current values. */
    public VcpuStats snapshot() {
        return new VcpuStats(pfTaken, pfFixed, pfFast, pfSpurious, pfEmulate, pfMmioSpteCreated, pfRetry, mmioExits,
                efaultExits, tlbFlush, exits, tlbMisses);
    }
}
