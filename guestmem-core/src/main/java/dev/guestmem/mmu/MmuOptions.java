package dev.guestmem.mmu;

import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * How the MMU behaves where x86 KVM lets userspace choose, and its test knobs. {@link #DEFAULT} is the
 * reference kernel's VM: the slot-zap-all quirk on, no schedule points, no mutation, no observer.
 *
 * @param slotZapAll      {@code KVM_X86_QUIRK_SLOT_ZAP_ALL} (on unless disabled with
 *                        {@code KVM_CAP_DISABLE_QUIRKS2}): a memslot DELETE or MOVE drops every SPTE of the
 *                        VM (the fast zap, mmu.md §4.4), not just the slot's
 * @param interleaver     schedule points for deterministic race tests
 * @param mutations       protective steps removed (test only, see {@link MmuMutation})
 * @param installObserver told about every leaf a fault installs
 */
public record MmuOptions(boolean slotZapAll, Interleaver interleaver, Set<MmuMutation> mutations,
        InstallObserver installObserver) {
    /** The reference kernel's MMU: zap all on slot changes, no schedule points, no mutations, no observer. */
    public static final MmuOptions DEFAULT = new MmuOptions(true, Interleaver.NONE, Set.of(), InstallObserver.NONE);

    public MmuOptions {
        Objects.requireNonNull(interleaver, "interleaver");
        Objects.requireNonNull(installObserver, "installObserver");
        mutations = mutations.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(mutations));
    }

    /** These options with {@code interleaver}. */
    public MmuOptions withInterleaver(Interleaver value) {
        return new MmuOptions(slotZapAll, value, mutations, installObserver);
    }

    /** These options with {@code mutation} added (test only). */
    public MmuOptions withMutation(MmuMutation mutation) {
        EnumSet<MmuMutation> set = mutations.isEmpty() ? EnumSet.noneOf(MmuMutation.class) : EnumSet.copyOf(mutations);
        set.add(mutation);
        return new MmuOptions(slotZapAll, interleaver, set, installObserver);
    }

    /** These options with {@code observer}. */
    public MmuOptions withInstallObserver(InstallObserver observer) {
        return new MmuOptions(slotZapAll, interleaver, mutations, observer);
    }

    /** These options with {@code KVM_X86_QUIRK_SLOT_ZAP_ALL} on or off. */
    public MmuOptions withSlotZapAll(boolean value) {
        return new MmuOptions(value, interleaver, mutations, installObserver);
    }

    /** Whether {@code mutation} is injected. */
    public boolean has(MmuMutation mutation) {
        return mutations.contains(mutation);
    }
}
