package dev.guestmem.vcpu;

import dev.guestmem.mmu.FaultHandler;
import dev.guestmem.mmu.TdpMmu;
import dev.guestmem.mmu.TlbFlusher;
import dev.guestmem.mmu.VcpuStats;
import java.util.Arrays;
import java.util.List;

/**
 * A VM's vCPUs, and the remote TLB flush over them ({@code kvm_make_all_cpus_request(KVM_REQ_TLB_FLUSH)},
 * mmu.md §4.1, §8.4 rule 7): request every vCPU, kick those in guest mode, then wait until each kicked
 * one has left guest mode (and so dropped its TLB) at least once after the kick.
 */
public final class VcpuSet implements TlbFlusher {
    private final TdpMmu mmu;
    private final FaultHandler faults;
    private volatile MmuVcpu[] vcpus = new MmuVcpu[0];

    public VcpuSet(TdpMmu mmu, FaultHandler faults) {
        this.mmu = mmu;
        this.faults = faults;
    }

    /** The vCPU with {@code id}, created (and from then on flushed) on first use. */
    public synchronized MmuVcpu getOrCreate(int id) {
        for (MmuVcpu v : vcpus) {
            if (v.id() == id) {
                return v;
            }
        }
        MmuVcpu created = new MmuVcpu(id, mmu, faults);
        MmuVcpu[] grown = Arrays.copyOf(vcpus, vcpus.length + 1);
        grown[grown.length - 1] = created;
        vcpus = grown;
        return created;
    }

    /** The vCPUs created so far. */
    public List<MmuVcpu> all() {
        return List.of(vcpus);
    }

    @Override
    public void flushRemoteTlbs() {
        MmuVcpu[] all = vcpus;
        mmu.counters().countRemoteFlush(all.length);
        long[] epochs = new long[all.length];
        for (int i = 0; i < all.length; i++) {
            epochs[i] = all[i].requestAndKick(MmuVcpu.REQ_TLB_FLUSH);
        }
        for (int i = 0; i < all.length; i++) {
            if (epochs[i] >= 0) {
                all[i].awaitExit(epochs[i]);
            }
        }
    }

    /** The sum of every vCPU's statistics. */
    public VcpuStats stats() {
        VcpuStats sum = VcpuStats.ZERO;
        for (MmuVcpu v : vcpus) {
            sum = sum.plus(v.counters().snapshot());
        }
        return sum;
    }
}
