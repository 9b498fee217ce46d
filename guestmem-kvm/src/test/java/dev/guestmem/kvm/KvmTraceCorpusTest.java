package dev.guestmem.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.trace.PendingOps;
import dev.guestmem.trace.Trace;
import dev.guestmem.trace.TraceNotImplementedException;
import dev.guestmem.trace.TraceOp;
import dev.guestmem.trace.TraceParser;
import dev.guestmem.trace.TraceReplayer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Replays every trace of the kernel-answered corpus ({@code shared/traces}) on the KVM backend, through
 * the same replayer as the engine with a {@link KvmVmFactory}: this checks the backend against the
 * recorded kernel output. A trace whose operations the replayer implements must print exactly its
 * {@code .expected} lines; a trace with an operation still in {@link PendingOps} must print the expected
 * lines up to that operation and stop there. Skipped without {@code /dev/kvm} or without the corpus.
 */
class KvmTraceCorpusTest {
    @TestFactory
    Stream<DynamicTest> everyCorpusTraceOnKvm() {
        KvmAssumptions.assumeKvm("KvmTraceCorpusTest");
        Optional<Path> dir = tracesDir();
        if (dir.isEmpty()) {
            System.out.println("KvmTraceCorpusTest skipped: no shared/traces directory (set -Dguestmem.shared)");
        }
        assumeTrue(dir.isPresent(), "no shared/traces directory (set -Dguestmem.shared)");
        List<Path> traces = traces(dir.get());
        assertFalse(traces.isEmpty(), "the corpus directory holds no .gmt trace: " + dir.get());
        return traces.stream().map(trace -> DynamicTest.dynamicTest(trace.getFileName().toString(),
                () -> replayMatchesKernel(trace)));
    }

    private static void replayMatchesKernel(Path file) throws IOException {
        Trace trace = TraceParser.parse(file);
        List<String> expected = expected(file);
        // The memslot design is the engine's; the kernel ignores it.
        TraceReplayer replayer = new TraceReplayer(new KvmVmFactory(), MemslotImpl.values()[0]);
        Optional<TraceOp> pending = PendingOps.firstPending(trace);
        if (pending.isEmpty()) {
            assertEquals(expected, replayer.replay(trace), file.getFileName() + " on KVM");
            return;
        }
        List<String> printed = new ArrayList<>();
        TraceNotImplementedException stop = assertThrows(TraceNotImplementedException.class,
                () -> replayer.replay(trace, (op, result) -> printed.add(result)));
        assertSame(pending.get(), stop.op());
        System.out.println("KvmTraceCorpusTest: " + file.getFileName() + " checked up to line "
                + pending.get().source().line() + " (" + pending.get().kind().keyword() + " is not replayable yet)");
        assertEquals(expected.subList(0, Math.min(printed.size(), expected.size())), printed,
                file.getFileName() + " on KVM, results before the pending operation");
    }

    /** {@code shared/traces}: the {@code guestmem.shared} property (surefire sets it), else beside the repo. */
    private static Optional<Path> tracesDir() {
        String property = System.getProperty("guestmem.shared", "");
        Path shared = property.isBlank() ? Path.of("..", "..", "shared") : Path.of(property);
        Path traces = shared.resolve("traces").toAbsolutePath().normalize();
        return Files.isDirectory(traces) ? Optional.of(traces) : Optional.empty();
    }

    private static List<Path> traces(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".gmt")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> expected(Path trace) throws IOException {
        String name = trace.getFileName().toString();
        return Files.readAllLines(trace.resolveSibling(name.substring(0, name.length() - 4) + ".expected"));
    }
}
