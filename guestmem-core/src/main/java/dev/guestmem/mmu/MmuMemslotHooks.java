package dev.guestmem.mmu;

import dev.guestmem.memslot.Memslot;
import dev.guestmem.memslot.MemslotStore;
import dev.guestmem.vm.MemslotChange;
import dev.guestmem.vm.MemslotUpdateHooks;
import dev.guestmem.vm.Quirks;

/**
 * The MMU's side of a memslot update ({@code kvm_arch_flush_shadow_memslot}, {@code
 * kvm_arch_memslots_updated}): DELETE and MOVE zap the old slot's SPTEs and flush while its INVALID copy
 * is published, so the old translations are gone before the slot stops being reachable by MMU notifiers
 * (mmu.md §4.4); every publication checks the MMIO generation for a wrap.
 *
 * <p>Zap strategy: as x86 does by default ({@code KVM_X86_QUIRK_SLOT_ZAP_ALL}), every SPTE of the VM goes
 * ({@link TdpMmu#zapAll}, the effect of the fast zap of all roots: the next accesses fault everything
 * back in, read faults of now-written pages mapping them writable). With the quirk disabled (from the
 * start, {@link MmuOptions#withSlotZapAll}, or later by {@code KVM_CAP_DISABLE_QUIRKS2}, {@link Quirks}),
 * only the slot's gfn range ({@link TdpMmu#zapMemslot}); MMIO SPTEs cached for the slot's new range are then
 * invalidated by the generation.
 */
public final class MmuMemslotHooks implements MemslotUpdateHooks {
    private final TdpMmu mmu;
    private final MemslotStore store;
    private final Quirks quirks;

    public MmuMemslotHooks(TdpMmu mmu, MemslotStore store, Quirks quirks) {
        this.mmu = mmu;
        this.store = store;
        this.quirks = quirks;
    }

    @Override
    public void invalidated(Memslot old) {
        mmu.memslotsUpdated(store.active(old.asId()).generation());
        mmu.interleaver().point("memslot.invalidated");
        if (quirks.enabled(Quirks.SLOT_ZAP_ALL)) {
            mmu.zapAll();
        } else {
            mmu.zapMemslot(old);
        }
    }

    @Override
    public void commit(Memslot old, Memslot next, MemslotChange change) {
        Memslot any = next != null ? next : old;
        mmu.memslotsUpdated(store.active(any.asId()).generation());
    }
}
