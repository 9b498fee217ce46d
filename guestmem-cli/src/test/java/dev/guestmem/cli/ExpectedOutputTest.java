package dev.guestmem.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class ExpectedOutputTest {
    @Test
    void expectedFileHasTheTraceBaseName() {
        assertEquals(Path.of("dir/01-basics.expected"), ExpectedOutput.pathFor(Path.of("dir/01-basics.gmt")));
        assertEquals(Path.of("x.expected"), ExpectedOutput.pathFor(Path.of("x.gmt")));
        assertEquals(Path.of("notes.txt.expected"), ExpectedOutput.pathFor(Path.of("notes.txt")));
    }

    @Test
    void equalOutputsHaveNoDiff() {
        assertEquals(List.of(), ExpectedOutput.unifiedDiff("e", List.of("ok", "mmio"), "a", List.of("ok", "mmio")));
    }

    @Test
    void differencesComeAsAUnifiedDiff() {
        List<String> diff = ExpectedOutput.unifiedDiff("t.expected", List.of("ok", "val 0x1", "ok"), "t.gmt",
                List.of("ok", "val 0x2", "ok"));
        assertEquals(List.of("--- t.expected", "+++ t.gmt", "@@ -1,3 +1,3 @@", " ok", "-val 0x1", "+val 0x2", " ok"),
                diff);
    }

    @Test
    void missingAndExtraLinesShowUp() {
        List<String> diff = ExpectedOutput.unifiedDiff("e", List.of("ok", "ok"), "a", List.of("ok"));
        assertTrue(diff.contains("-ok"), diff.toString());
        diff = ExpectedOutput.unifiedDiff("e", List.of(), "a", List.of("mmio"));
        assertTrue(diff.contains("+mmio"), diff.toString());
    }
}
