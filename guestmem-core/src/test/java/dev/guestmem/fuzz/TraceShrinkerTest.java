package dev.guestmem.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.trace.Trace;
import dev.guestmem.trace.TraceParser;
import dev.guestmem.trace.TraceUsageException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class TraceShrinkerTest {
    @Test
    void keepsExactlyTheLinesTheFailureNeeds() {
        List<String> lines = IntStream.range(0, 40).mapToObj(i -> "line " + i).toList();
        Predicate<List<String>> fails = l -> l.contains("line 7") && l.contains("line 31");
        assertEquals(List.of("line 7", "line 31"), TraceShrinker.shrink(lines, fails));
    }

    @Test
    void refusesATraceThatDoesNotFail() {
        assertThrows(IllegalArgumentException.class, () -> TraceShrinker.shrink(List.of("a"), l -> false));
    }

    /** A generated trace that meets the hidden slot shrinks to the lines that reach it. */
    @Test
    void shrinksAGeneratedDivergenceToAFewLines() {
        DifferentialReplayer replayer = new DifferentialReplayer(Backend.engine(),
                DifferentialReplayerTest.hiddenSlotEngine(), MemslotImpl.TREE);
        List<String> trace = new ArrayList<>(TraceGenerator.lines(3, FuzzOptions.replayable(40, 0.2)));
        trace.add(20, "r " + Lines.hex(DifferentialReplayerTest.HIDDEN_GPA));
        Predicate<List<String>> diverges = lines -> {
            try {
                Trace t = TraceParser.parse("t.gmt", String.join("\n", lines));
                return RuleChecker.firstViolation(t).isEmpty()
                        && replayer.compare(t) instanceof Comparison.Divergence;
            } catch (TraceUsageException e) {
                return false;
            }
        };
        List<String> minimal = TraceShrinker.shrink(trace, diverges);
        assertEquals(List.of("r 0x70000000"), minimal);
    }
}
