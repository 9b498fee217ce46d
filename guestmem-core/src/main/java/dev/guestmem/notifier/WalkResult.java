package dev.guestmem.notifier;

/**
 * What a range walk returns ({@code kvm_mmu_notifier_return} plus the operator's error).
 *
 * @param ret          whether any handler returned "true"
 * @param foundMemslot whether any slot intersected the range (and so the lock and on_lock were taken)
 * @param error        0, or the negative errno of the handler that stopped the walk
 */
public record WalkResult(boolean ret, boolean foundMemslot, int error) {
    static final WalkResult NOTHING = new WalkResult(false, false, 0);
}
