package dev.guestmem.vm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.vm.VmType;
import dev.guestmem.vm.model.ReferenceMemslots.Mutation;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.RandomGenerator;
import net.jqwik.api.state.ActionChain;

/**
 * The lockstep property can fail: the same chain generator, run against model variants that each break
 * one rule of spec §1.1/§5.4, finds a disagreement with the engine for every variant within a bounded
 * number of chains from a fixed seed; and with the correct model it finds none. A disagreement between a
 * broken model and the engine is the same observation a broken engine would produce against the
 * correct model.
 */
class RegionModelMutationTest {
    static final int MAX_CHAINS = 300;
    static final int GEN_SIZE = 1000;

    /** The index of the first chain (from {@code seed}) whose run fails, or -1 after {@code chains}. */
    static int firstFailingChain(VmType type, MemslotImpl impl, Mutation mutation, long seed, int chains,
            StringBuilder firstFailure) {
        RandomGenerator<ActionChain<RegionLockstep>> generator =
                RegionActions.chains(type, impl, mutation, RegionModelPropertyTest.MAX_CALLS).generator(GEN_SIZE);
        Random random = new Random(seed);
        for (int i = 0; i < chains; i++) {
            ActionChain<RegionLockstep> chain = generator.next(random).value();
            try {
                RegionModelPropertyTest.run(chain);
            } catch (AssertionError e) {
                firstFailure.append(e.getMessage());
                return i;
            }
        }
        return -1;
    }

    @Example
    void everyBrokenRuleIsCaught() {
        List<String> missed = new ArrayList<>();
        for (Mutation mutation : Mutation.values()) {
            if (mutation == Mutation.NONE) {
                continue;
            }
            MemslotImpl impl = mutation.ordinal() % 2 == 0 ? MemslotImpl.TREE : MemslotImpl.ARRAY;
            StringBuilder failure = new StringBuilder();
            int index = firstFailingChain(VmType.DEFAULT, impl, mutation, 0x5eed + mutation.ordinal(), MAX_CHAINS,
                    failure);
            if (index < 0) {
                missed.add(mutation.name());
            } else {
                String firstLine = failure.toString().lines().findFirst().orElse("");
                System.out.println("mutation " + mutation + " caught by chain " + (index + 1) + ": " + firstLine);
            }
        }
        assertEquals(List.of(), missed, "broken rules the lockstep property did not notice");
    }

    @Example
    void theCorrectModelAgreesOnTheSameChains() {
        for (MemslotImpl impl : MemslotImpl.values()) {
            StringBuilder failure = new StringBuilder();
            int index = firstFailingChain(VmType.DEFAULT, impl, Mutation.NONE, 0x5eed, 20, failure);
            assertEquals(-1, index, failure.toString());
        }
    }
}
