package dev.guestmem.gmem;

import dev.guestmem.memslot.Memslot;
import dev.guestmem.memslot.MemslotStore;

/**
 * {@code kvm_handle_gfn_range} for memory-attribute changes (spec §3.6, §5.7): for every address space,
 * every slot of the active set intersecting {@code [start, end)} (INVALID copies included, as for any
 * notifier walk) has the intersection {@code [max(start, base), min(end, base + npages))} zapped, both
 * shared and private mappings; the window opens at the first non-empty intersection and closes after the
 * change, so begin and end pair up and a range without slots opens none.
 *
 * <p>The caller holds the slots lock: the memslots cannot change during the call, which is also why the
 * active sets are read without an SRCU read section.
 */
public final class GfnRangeInvalidator implements GfnRangeInvalidation {
    private final MemslotStore store;
    private final GmemInvalidationTarget target;

    /** A walker over {@code store}'s active sets, zapping through {@code target}. */
    public GfnRangeInvalidator(MemslotStore store, GmemInvalidationTarget target) {
        this.store = store;
        this.target = target;
    }

    @Override
    public boolean invalidate(long start, long end, Runnable change) {
        ZapPlan plan = new ZapPlan();
        for (int as = 0; as < store.addressSpaces(); as++) {
            for (Memslot slot : store.active(as).inGfnRange(start, end)) {
                plan.add(slot, intersection(slot, start, end));
            }
        }
        return plan.run(target, ZapFilter.BOTH, change);
    }

    /** {@code [max(start, base), min(end, base + npages))}, unsigned. */
    static GfnRange intersection(Memslot slot, long start, long end) {
        long first = Long.compareUnsigned(slot.baseGfn(), start) >= 0 ? slot.baseGfn() : start;
        long last = Long.compareUnsigned(slot.endGfn(), end) <= 0 ? slot.endGfn() : end;
        return new GfnRange(first, last);
    }
}
