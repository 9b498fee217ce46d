package dev.guestmem.perf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.vm.EngineVm;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link PerfRunner}: the selftest's {@code -q} turns the slot-zap-all quirk off for the move tests only. */
class PerfRunnerTest {
    private final List<EngineVm> made = new ArrayList<>();
    private final PerfTarget tree = PerfTarget.engine((host, type, impl) -> {
        EngineVm vm = new EngineVm(host, type, impl);
        made.add(vm);
        return vm;
    }, MemslotImpl.TREE);

    /** Guest faults over one short move-inactive run at 10 slots. */
    private long faultsOfAMoveRun(boolean slotZapAll) throws InterruptedException {
        made.clear();
        PerfCell cell = new PerfRunner(Duration.ofMillis(200), 1, slotZapAll).run(PerfTest.MOVE_INACTIVE, 10, tree);
        assertTrue(cell.isMeasured(), cell.toString());
        assertTrue(cell.iterations() > 100, "iterations: " + cell.iterations());
        assertEquals(1, made.size());
        return made.getFirst().vcpu(0).stats().orElseThrow().pfTaken();
    }

    @Test
    void withoutTheQuirkAMoveNoLongerZapsTheGuestsPagesInOtherSlots() throws InterruptedException {
        // move-inactive's 48 pages lie outside the moved slot: with the quirk every MOVE drops their SPTEs
        // and the guest faults them back; without it they stay mapped after the first 48 faults.
        long withQuirk = faultsOfAMoveRun(true);
        long withoutQuirk = faultsOfAMoveRun(false);
        assertTrue(withoutQuirk <= 2 * 48, "faults without the quirk: " + withoutQuirk);
        assertTrue(withQuirk > 4 * 48, "faults with the quirk: " + withQuirk);
    }
}
