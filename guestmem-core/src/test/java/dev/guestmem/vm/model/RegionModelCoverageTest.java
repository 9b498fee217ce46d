package dev.guestmem.vm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.vm.VmType;
import dev.guestmem.vm.model.ReferenceMemslots.Mutation;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import net.jqwik.api.Example;
import net.jqwik.api.RandomGenerator;
import net.jqwik.api.state.ActionChain;

/**
 * The lockstep generator reaches every rule of spec §1.1 steps 2-20 (each failing check and each kind of
 * success), so a passing {@link RegionModelPropertyTest} means something: 100 chains from a fixed seed
 * must decide at least {@link #MIN_HITS} calls by each rule. Only the total-page overflow of step 17 is
 * left out: it needs more than 2^64 pages in slots of at most 2^31 - 1 pages each.
 */
class RegionModelCoverageTest {
    static final int CHAINS = 100;
    static final int MIN_HITS = 5;

    static final List<String> EVERY_RULE = List.of(
            "02 v1 flags", "03 slot id", "05 flags", "05 flags with GUEST_MEMFD", "07 size alignment",
            "08 gpa alignment", "09 hva alignment", "09 hva access_ok", "10 gmem offset", "11 address space",
            "12 gpa wrap", "13 too many pages", "15 delete missing slot", "15 delete", "15 delete gmem slot",
            "17 GUEST_MEMFD on existing slot", "17 hva changed", "17 size changed", "17 READONLY toggled",
            "17 GUEST_MEMFD cleared", "17 no-op", "18 overlap on create", "18 overlap on move",
            "20 bind: fd not open", "20 bind: not a guest_memfd", "20 bind: other VM's guest_memfd",
            "20 bind: range outside the file", "20 bind: range already bound", "ok CREATE", "ok CREATE gmem",
            "ok CREATE ending at the top of user space", "ok MOVE", "ok FLAGS_ONLY");

    static Map<String, Integer> ruleCounts(VmType type, MemslotImpl impl, long seed) {
        RandomGenerator<ActionChain<RegionLockstep>> generator =
                RegionActions.chains(type, impl, Mutation.NONE, RegionModelPropertyTest.MAX_CALLS)
                        .generator(RegionModelMutationTest.GEN_SIZE);
        Random random = new Random(seed);
        Map<String, Integer> counts = new TreeMap<>();
        for (int i = 0; i < CHAINS; i++) {
            RegionLockstep end = generator.next(random).value().run();
            end.ruleCounts().forEach((rule, n) -> counts.merge(rule, n, Integer::sum));
        }
        return counts;
    }

    @Example
    void everyRuleDecidesCallsOnADefaultVm() {
        Map<String, Integer> counts = ruleCounts(VmType.DEFAULT, MemslotImpl.TREE, 0xc0ffee);
        System.out.println("rules deciding calls in " + CHAINS + " chains (default VM): " + counts);
        List<String> rare = new ArrayList<>();
        for (String rule : EVERY_RULE) {
            if (counts.getOrDefault(rule, 0) < MIN_HITS) {
                rare.add(rule + "=" + counts.getOrDefault(rule, 0));
            }
        }
        assertEquals(List.of(), rare, "rules the generator rarely or never reaches");
    }

    @Example
    void theSecondAddressSpaceIsRejectedOnASwProtectedVm() {
        Map<String, Integer> counts = ruleCounts(VmType.SW_PROTECTED, MemslotImpl.ARRAY, 0xc0ffee);
        System.out.println("rules deciding calls in " + CHAINS + " chains (sw-protected VM): " + counts);
        assertTrue(counts.getOrDefault("11 address space", 0) >= 100, counts.toString());
        assertTrue(counts.getOrDefault("ok CREATE gmem", 0) >= MIN_HITS, counts.toString());
    }
}
