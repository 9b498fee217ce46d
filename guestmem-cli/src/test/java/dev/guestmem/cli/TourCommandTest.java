package dev.guestmem.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.trace.PendingOps;
import dev.guestmem.trace.Trace;
import dev.guestmem.trace.TraceParser;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class TourCommandTest {
    private static List<String> storedExpectedOutput() throws IOException {
        try (InputStream in = TourCommandTest.class.getResourceAsStream("tour.expected")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        }
    }

    @Test
    void tourPrintsTheStoredExpectedOutputOnBothMemslotDesigns() throws IOException {
        List<String> expected = storedExpectedOutput();
        for (String impl : List.of("tree", "array")) {
            CliRun run = CliRun.of("tour", "--impl", impl);
            assertEquals(ExitCode.OK, run.exitCode(), run.err());
            assertEquals(expected, run.outLines(), "--impl " + impl);
            assertEquals("", run.err());
        }
        assertEquals(expected, CliRun.of("tour").outLines());
    }

    @Test
    void tourUsesOnlyImplementedOperationsAndIsCommented() {
        Trace tour = TraceParser.parse(TourCommand.TOUR_RESOURCE, TourCommand.tourText());
        assertEquals(java.util.Optional.empty(), PendingOps.firstPending(tour));
        assertTrue(tour.ops().size() >= 40, "a tour worth taking: " + tour.ops().size() + " operations");
        assertTrue(tour.comments().size() >= 10, "sections: " + tour.comments().size());
    }

    @Test
    void everyOperationLineShowsItsResult() {
        CliRun run = CliRun.of("tour");
        Trace tour = TraceParser.parse(TourCommand.TOUR_RESOURCE, TourCommand.tourText());
        List<String> opLines = run.outLines().stream().filter(l -> l.contains(" -> ")).toList();
        assertEquals(tour.ops().size(), opLines.size());
        for (int i = 0; i < opLines.size(); i++) {
            assertTrue(opLines.get(i).startsWith(tour.ops().get(i).source().text() + " "), opLines.get(i));
        }
    }
}
