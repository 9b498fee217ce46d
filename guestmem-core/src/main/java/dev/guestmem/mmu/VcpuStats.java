package dev.guestmem.mmu;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A snapshot of one vCPU's statistics, or of their sum over a VM's vCPUs; names as in KVM's
 * {@code kvm_vcpu_stat} where KVM has the counter.
 *
 * @param pfTaken           page faults (EPT violations and misconfigurations) handled
 * @param pfFixed           faults that installed or changed an SPTE on the slow path
 * @param pfFast            faults fixed by the lockless fast path
 * @param pfSpurious        faults whose SPTE already allowed the access (stale TLB, racing vCPU)
 * @param pfEmulate         faults resolved by emulation (MMIO, read-only slot writes, write-tracked gfns)
 * @param pfMmioSpteCreated MMIO SPTEs installed
 * @param pfRetry           faults that had to be retried (invalidation, INVALID slot, lost race, FROZEN)
 * @param mmioExits         accesses that left as MMIO exits
 * @param efaultExits       accesses for which {@code KVM_RUN} fails with EFAULT
 * @param tlbFlush          TLB flushes the vCPU performed on request
 * @param exits             guest-mode exits
 * @param tlbMisses         hardware page walks
 */
public record VcpuStats(long pfTaken, long pfFixed, long pfFast, long pfSpurious, long pfEmulate,
        long pfMmioSpteCreated, long pfRetry, long mmioExits, long efaultExits, long tlbFlush, long exits,
        long tlbMisses) {
    /** All zero. */
    public static final VcpuStats ZERO = new VcpuStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    /** The element-wise sum. */
    public VcpuStats plus(VcpuStats o) {
        return new VcpuStats(pfTaken + o.pfTaken, pfFixed + o.pfFixed, pfFast + o.pfFast, pfSpurious + o.pfSpurious,
                pfEmulate + o.pfEmulate, pfMmioSpteCreated + o.pfMmioSpteCreated, pfRetry + o.pfRetry,
                mmioExits + o.mmioExits, efaultExits + o.efaultExits, tlbFlush + o.tlbFlush, exits + o.exits,
                tlbMisses + o.tlbMisses);
    }

    /** The counters by KVM name, in declaration order. */
    public Map<String, Long> asMap() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("pf_taken", pfTaken);
        m.put("pf_fixed", pfFixed);
        m.put("pf_fast", pfFast);
        m.put("pf_spurious", pfSpurious);
        m.put("pf_emulate", pfEmulate);
        m.put("pf_mmio_spte_created", pfMmioSpteCreated);
        m.put("pf_retry", pfRetry);
        m.put("mmio_exits", mmioExits);
        m.put("efault_exits", efaultExits);
        m.put("tlb_flush", tlbFlush);
        m.put("exits", exits);
        m.put("tlb_misses", tlbMisses);
        return m;
    }
}
