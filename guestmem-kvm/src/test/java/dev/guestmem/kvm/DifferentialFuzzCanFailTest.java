package dev.guestmem.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.fuzz.Backend;
import dev.guestmem.host.HostMemory;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.trace.OpKind;
import dev.guestmem.vm.EngineVm;
import dev.guestmem.vm.FileTable;
import dev.guestmem.vm.VmConfig;
import dev.guestmem.vm.VmType;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * The differential test can fail: the same campaign, with an engine that deliberately differs from the
 * kernel in its place, reports divergences with minimal traces. The different engine models an upstream
 * x86 host with SMM, whose second address space the reference kernel lacks (kvm-backend.md): requests for
 * slots in address space 1 succeed there and fail on the kernel, and dirty-log calls on such a slot id
 * answer {@code ENOENT} (no slot) there and {@code EINVAL} (no address space) on the kernel.
 */
class DifferentialFuzzCanFailTest {
    /** The operations whose first operand is a slot id ({@code as_id << 16 | id}). */
    private static final Set<OpKind> NAMES_A_SLOT = EnumSet.of(OpKind.REGION, OpKind.REGION2, OpKind.DIRTY_LOG,
            OpKind.CLEAR_LOG);

    @Test
    void anEngineThatDiffersFromTheKernelIsCaughtAndShrunk() {
        KvmAssumptions.assumeKvm("DifferentialFuzzCanFailTest");
        Backend smmEngine = new Backend("smm-engine", (HostMemory host, VmType type, MemslotImpl impl) ->
                new EngineVm(host, new FileTable(), VmConfig.of(type, impl).withSmm()));
        List<Long> seeds = LongStream.range(0, 40).boxed().toList();

        FuzzCampaign.Summary summary = new FuzzCampaign(smmEngine, new Backend("kvm", new KvmVmFactory()))
                .run(seeds, DifferentialFuzzTest::options);

        assertFalse(summary.findings().isEmpty(), "no divergence found in " + summary.traces() + " traces");
        for (FuzzCampaign.Finding finding : summary.findings()) {
            OpKind kind = finding.minimalDivergence().op().kind();
            assertTrue(NAMES_A_SLOT.contains(kind), finding.describe());
            assertTrue(finding.minimal().size() <= 3, "not minimal: " + finding.describe());
            String slot = finding.minimalDivergence().op().source().text().split(" ")[1];
            assertEquals(1, Long.parseLong(slot) >>> 16, "address space 1 is the difference: " + finding.describe());
            assertEquals("err EINVAL", finding.minimalDivergence().second(), finding.describe());
        }
        System.out.println("DifferentialFuzzCanFailTest: " + summary.findings().size() + " divergences, e.g.\n"
                + summary.findings().get(0).describe());
    }
}
