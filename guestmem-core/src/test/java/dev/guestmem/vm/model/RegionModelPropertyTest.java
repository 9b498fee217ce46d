package dev.guestmem.vm.model;

import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.vm.VmType;
import dev.guestmem.vm.model.ReferenceMemslots.Mutation;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.state.ActionChain;
import net.jqwik.api.state.ActionChainArbitrary;

/**
 * KVM_SET_USER_MEMORY_REGION(2) on {@link dev.guestmem.vm.EngineVm} against {@link ReferenceMemslots}, in
 * lockstep, for both memslot designs and both VM types. After every call: the same errno; the generation
 * moved by (address spaces × publishes) of the changed address space only, and not at all for a failure
 * or a no-op; every slot of every address space identical; guest_memfd bindings identical; and the store's
 * lookups (exact, per-vCPU cached, approximate, gfn range, hva range) agree with the model.
 */
class RegionModelPropertyTest {
    static final int MAX_CALLS = 60;

    @Property(tries = 120)
    void treeDefaultVm(@ForAll("treeDefault") ActionChain<RegionLockstep> chain) {
        run(chain);
    }

    @Property(tries = 80)
    void treeSwProtectedVm(@ForAll("treeSwProtected") ActionChain<RegionLockstep> chain) {
        run(chain);
    }

    @Property(tries = 120)
    void arrayDefaultVm(@ForAll("arrayDefault") ActionChain<RegionLockstep> chain) {
        run(chain);
    }

    @Property(tries = 80)
    void arraySwProtectedVm(@ForAll("arraySwProtected") ActionChain<RegionLockstep> chain) {
        run(chain);
    }

    static void run(ActionChain<RegionLockstep> chain) {
        chain.withInvariant("engine agrees with the model", RegionLockstep::checkAgreement).run();
    }

    @Provide
    ActionChainArbitrary<RegionLockstep> treeDefault() {
        return RegionActions.chains(VmType.DEFAULT, MemslotImpl.TREE, Mutation.NONE, MAX_CALLS);
    }

    @Provide
    ActionChainArbitrary<RegionLockstep> treeSwProtected() {
        return RegionActions.chains(VmType.SW_PROTECTED, MemslotImpl.TREE, Mutation.NONE, MAX_CALLS);
    }

    @Provide
    ActionChainArbitrary<RegionLockstep> arrayDefault() {
        return RegionActions.chains(VmType.DEFAULT, MemslotImpl.ARRAY, Mutation.NONE, MAX_CALLS);
    }

    @Provide
    ActionChainArbitrary<RegionLockstep> arraySwProtected() {
        return RegionActions.chains(VmType.SW_PROTECTED, MemslotImpl.ARRAY, Mutation.NONE, MAX_CALLS);
    }
}
