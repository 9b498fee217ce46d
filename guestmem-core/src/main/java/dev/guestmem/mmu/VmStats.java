package dev.guestmem.mmu;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A snapshot of a VM's MMU statistics ({@code struct kvm_vm_stat} names where KVM has the counter)
 * and the sum of its vCPUs' statistics.
 *
 * @param remoteTlbFlush         {@code kvm_flush_remote_tlbs} calls that flushed
 * @param remoteTlbFlushRequests vCPUs asked to flush by those calls
 * @param mmuShadowZapped        page tables removed from the tree
 * @param pages4k                present 4 KiB leaves now
 * @param pages2m                present 2 MiB leaves now
 * @param invalidations          MMU-notifier invalidate_range_start calls
 * @param tables                 page tables allocated and not yet freed
 * @param vcpus                  the sum over the VM's vCPUs
 */
public record VmStats(long remoteTlbFlush, long remoteTlbFlushRequests, long mmuShadowZapped, long pages4k,
        long pages2m, long invalidations, long tables, VcpuStats vcpus) {
    /** Every counter by name: the VM's first, then the vCPU sums. */
    public Map<String, Long> asMap() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("remote_tlb_flush", remoteTlbFlush);
        m.put("remote_tlb_flush_requests", remoteTlbFlushRequests);
        m.put("mmu_shadow_zapped", mmuShadowZapped);
        m.put("pages_4k", pages4k);
        m.put("pages_2m", pages2m);
        m.put("invalidations", invalidations);
        m.put("page_tables", tables);
        m.putAll(vcpus.asMap());
        return m;
    }
}
