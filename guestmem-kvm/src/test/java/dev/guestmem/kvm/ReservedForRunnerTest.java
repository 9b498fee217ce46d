package dev.guestmem.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.guestmem.fuzz.ReservedForRunner;
import org.junit.jupiter.api.Test;

/** The generator's reserved resources (trace-format.md) are the ones this backend really uses. */
class ReservedForRunnerTest {
    @Test
    void theGeneratorKeepsClearOfWhatTheBackendReserves() {
        assertEquals(ReservedLayout.SLOT, ReservedForRunner.SLOT_ID);
        assertEquals(ReservedLayout.DOORBELL, ReservedForRunner.WINDOW_START);
        assertEquals(ReservedLayout.BASE + ReservedLayout.SIZE, ReservedForRunner.WINDOW_END);
        assertEquals(ReservedLayout.IDENTITY_MAP_END, ReservedForRunner.ACCESS_LIMIT);
    }
}
