package dev.guestmem.notifier;

import dev.guestmem.memslot.Memslot;

/**
 * {@code struct kvm_gfn_range}: the part {@code [start, end)} of one memslot's gfns that a range walk
 * hands to its handler.
 *
 * @param slot       the memslot (INVALID slots included, kvm-memory-spec §3.2)
 * @param start      first gfn
 * @param end        gfn after the last
 * @param mayBlock   whether the handler may sleep or yield the MMU lock
 * @param arg        the walk's argument (memory attributes)
 * @param attrFilter {@link #FILTER_SHARED}, {@link #FILTER_PRIVATE} or both
 */
public record GfnRange(Memslot slot, long start, long end, boolean mayBlock, long arg, int attrFilter) {
    /** {@code KVM_FILTER_SHARED}. */
    public static final int FILTER_SHARED = 1;
    /** {@code KVM_FILTER_PRIVATE}. */
    public static final int FILTER_PRIVATE = 2;
}
