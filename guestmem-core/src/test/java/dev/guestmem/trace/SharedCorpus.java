package dev.guestmem.trace;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Locates the kernel-answered trace corpus ({@code shared/traces}): the {@code guestmem.shared} system
 * property (surefire passes it), else {@code ../shared} beside the repository root.
 */
final class SharedCorpus {
    private SharedCorpus() {
    }

    /** The traces directory, if it exists. */
    static Optional<Path> tracesDir() {
        String property = System.getProperty("guestmem.shared");
        Path shared = property != null && !property.isBlank() ? Path.of(property) : repoRoot().resolve("../shared");
        Path traces = shared.resolve("traces").normalize();
        return Files.isDirectory(traces) ? Optional.of(traces) : Optional.empty();
    }

    /** Every {@code .gmt} trace of the corpus, by name. */
    static List<Path> traces(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".gmt")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The kernel's output for {@code trace}: {@code NAME.expected} beside {@code NAME.gmt}. */
    static List<String> expected(Path trace) {
        String name = trace.getFileName().toString();
        Path expected = trace.resolveSibling(name.substring(0, name.length() - ".gmt".length()) + ".expected");
        try {
            return Files.readAllLines(expected);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The first directory upwards from the working directory that holds the Maven wrapper. */
    private static Path repoRoot() {
        Path dir = Path.of("").toAbsolutePath();
        for (Path d = dir; d != null; d = d.getParent()) {
            if (Files.exists(d.resolve("mvnw"))) {
                return d;
            }
        }
        return dir;
    }
}
