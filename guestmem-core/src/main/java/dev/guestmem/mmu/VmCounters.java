package dev.guestmem.mmu;

import java.util.concurrent.atomic.LongAdder;

/** A VM's MMU statistics as they are counted ({@code struct kvm_vm_stat}); any thread may count. */
public final class VmCounters {
    private final LongAdder remoteTlbFlush = new LongAdder();
    private final LongAdder remoteTlbFlushRequests = new LongAdder();
    private final LongAdder mmuShadowZapped = new LongAdder();
    private final LongAdder pages4k = new LongAdder();
    private final LongAdder pages2m = new LongAdder();
    private final LongAdder invalidations = new LongAdder();

    /** A remote flush that asked {@code vcpus} vCPUs to flush. */
    public void countRemoteFlush(int vcpus) {
        remoteTlbFlush.increment();
        remoteTlbFlushRequests.add(vcpus);
    }

    /** An MMU-notifier invalidate_range_start. */
    public void countInvalidation() {
        invalidations.increment();
    }

    void countTableRemoved() {
        mmuShadowZapped.increment();
    }

    /** {@code kvm_update_page_stats}: {@code delta} present leaves appeared at {@code level}. */
    void countLeaves(int level, long delta) {
        (level == PageLevel.PG_4K ? pages4k : pages2m).add(delta);
    }

    /** The current values, with {@code tables} live tables and the vCPU sum {@code vcpus}. */
    public VmStats snapshot(long tables, VcpuStats vcpus) {
        return new VmStats(remoteTlbFlush.sum(), remoteTlbFlushRequests.sum(), mmuShadowZapped.sum(), pages4k.sum(),
                pages2m.sum(), invalidations.sum(), tables, vcpus);
    }
}
