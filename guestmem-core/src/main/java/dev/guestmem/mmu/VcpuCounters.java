package dev.guestmem.mmu;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A vCPU's statistics as it counts them ({@code struct kvm_vcpu_stat}). Written only by the thread
 * driving the vCPU, with opaque accesses: a read-increment-write is exact with one writer, a reader on
 * another thread never sees a torn value, and no counter costs a memory fence on the fault path.
 * Readable from any thread through {@link #snapshot()}.
 */
public final class VcpuCounters {
    private static final VarHandle COUNT = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int PF_TAKEN = 0;
    private static final int PF_FIXED = 1;
    private static final int PF_FAST = 2;
    private static final int PF_SPURIOUS = 3;
    private static final int PF_EMULATE = 4;
    private static final int PF_MMIO_SPTE_CREATED = 5;
    private static final int PF_RETRY = 6;
    private static final int MMIO_EXITS = 7;
    private static final int EFAULT_EXITS = 8;
    private static final int TLB_FLUSH = 9;
    private static final int EXITS = 10;
    private static final int TLB_MISSES = 11;

    private final long[] counts = new long[12];

    private void bump(int which) {
        COUNT.setOpaque(counts, which, (long) COUNT.getOpaque(counts, which) + 1);
    }

    private long get(int which) {
        return (long) COUNT.getOpaque(counts, which);
    }

    void countFault() {
        bump(PF_TAKEN);
    }

    void countFixed() {
        bump(PF_FIXED);
    }

    void countFast() {
        bump(PF_FAST);
    }

    void countSpurious() {
        bump(PF_SPURIOUS);
    }

    void countEmulate() {
        bump(PF_EMULATE);
    }

    void countMmioSpteCreated() {
        bump(PF_MMIO_SPTE_CREATED);
    }

    void countRetry() {
        bump(PF_RETRY);
    }

    /** A guest-mode exit (kick, fault or request). */
    public void countExit() {
        bump(EXITS);
    }

    /** The TLB and paging-structure caches were dropped. */
    public void countTlbFlush() {
        bump(TLB_FLUSH);
    }

    /** A hardware page walk (TLB miss). */
    public void countTlbMiss() {
        bump(TLB_MISSES);
    }

    /** An exit to userspace for MMIO. */
    public void countMmioExit() {
        bump(MMIO_EXITS);
    }

    /** {@code KVM_RUN} failed with EFAULT (or exited with a memory fault). */
    public void countEfault() {
        bump(EFAULT_EXITS);
    }

    /** The current values. */
    public VcpuStats snapshot() {
        return new VcpuStats(get(PF_TAKEN), get(PF_FIXED), get(PF_FAST), get(PF_SPURIOUS), get(PF_EMULATE),
                get(PF_MMIO_SPTE_CREATED), get(PF_RETRY), get(MMIO_EXITS), get(EFAULT_EXITS), get(TLB_FLUSH),
                get(EXITS), get(TLB_MISSES));
    }
}
