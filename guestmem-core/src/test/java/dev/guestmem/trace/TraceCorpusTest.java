package dev.guestmem.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.guestmem.memslot.MemslotImpl;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Replays every trace of the kernel-answered corpus on the engine, with both memslot designs. A trace
 * whose operations are all implemented ({@link PendingOps}) must print exactly its {@code .expected}
 * lines; any other trace must print the expected lines up to its first pending operation and then stop
 * there with the not-implemented error. As operations leave {@link PendingOps}, their traces move from
 * the second group to the first by themselves.
 */
class TraceCorpusTest {
    @TestFactory
    Stream<DynamicTest> everyCorpusTraceOnBothMemslotDesigns() {
        Optional<Path> dir = SharedCorpus.tracesDir();
        if (dir.isEmpty()) {
            System.out.println("TraceCorpusTest skipped: no shared/traces directory (set -Dguestmem.shared)");
        }
        assumeTrue(dir.isPresent(), "no shared/traces directory (set -Dguestmem.shared)");
        List<Path> traces = SharedCorpus.traces(dir.get());
        assertFalse(traces.isEmpty(), "the corpus directory holds no .gmt trace: " + dir.get());
        return traces.stream().flatMap(trace -> Stream.of(MemslotImpl.values())
                .map(impl -> DynamicTest.dynamicTest(trace.getFileName() + " (" + impl + ")",
                        () -> replayMatchesKernel(trace, impl))));
    }

    private static void replayMatchesKernel(Path file, MemslotImpl impl) throws IOException {
        Trace trace = TraceParser.parse(file);
        List<String> expected = SharedCorpus.expected(file);
        TraceReplayer replayer = new TraceReplayer(VmFactory.engine(), impl);
        Optional<TraceOp> pending = PendingOps.firstPending(trace);
        if (pending.isEmpty()) {
            List<String> actual = replayer.replay(trace);
            assertEquals(expected, actual, () -> mismatches(trace, expected, actual));
            return;
        }
        List<String> printed = new ArrayList<>();
        TraceNotImplementedException stop = assertThrows(TraceNotImplementedException.class,
                () -> replayer.replay(trace, (op, result) -> printed.add(result)));
        TraceOp op = pending.get();
        assertSame(op, stop.op());
        assertEquals("not implemented yet: " + op.kind().keyword() + " (" + file + ":" + op.source().line() + ")",
                stop.getMessage());
        assertEquals(expected.subList(0, printed.size()), printed, "results before the pending operation");
        assertEquals(resultLinesBefore(trace, op), printed.size(), "every operation before it printed one line");
    }

    /** Each differing line as {@code FILE:LINE op: expected X, got Y}, so a failure reads like a bug report. */
    private static String mismatches(Trace trace, List<String> expected, List<String> actual) {
        List<TraceOp> printing = trace.ops().stream().filter(op -> op.kind() != OpKind.VM).toList();
        StringBuilder report = new StringBuilder("differs from the kernel's output:");
        for (int i = 0; i < Math.max(expected.size(), actual.size()); i++) {
            String want = i < expected.size() ? expected.get(i) : "(nothing)";
            String got = i < actual.size() ? actual.get(i) : "(nothing)";
            if (!want.equals(got)) {
                String where = i < printing.size()
                        ? printing.get(i).source().where() + " " + printing.get(i).source().text()
                        : "result " + (i + 1);
                report.append(System.lineSeparator()).append("  ").append(where).append(": expected ").append(want)
                        .append(", got ").append(got);
            }
        }
        return report.toString();
    }

    /** How many result lines the operations before {@code stop} print: all but the {@code vm} line. */
    private static long resultLinesBefore(Trace trace, TraceOp stop) {
        return trace.ops().stream().takeWhile(op -> op != stop).filter(op -> op.kind() != OpKind.VM).count();
    }
}
