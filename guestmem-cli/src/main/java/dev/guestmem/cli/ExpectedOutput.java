package dev.guestmem.cli;

import com.github.difflib.DiffUtils;
import com.github.difflib.UnifiedDiffUtils;
import com.github.difflib.patch.Patch;
import java.nio.file.Path;
import java.util.List;

/** Where a trace's expected output lives, and how a replay's output is compared with it. */
public final class ExpectedOutput {
    private static final String TRACE_SUFFIX = ".gmt";
    private static final String EXPECTED_SUFFIX = ".expected";
    /** Lines of context around each difference, as {@code diff -u} shows. */
    private static final int CONTEXT = 3;

    private ExpectedOutput() {
    }

    /** {@code NAME.gmt} → {@code NAME.expected} beside it; any other name just gains {@code .expected}. */
    public static Path pathFor(Path trace) {
        String name = trace.getFileName().toString();
        String base = name.endsWith(TRACE_SUFFIX) ? name.substring(0, name.length() - TRACE_SUFFIX.length()) : name;
        return trace.resolveSibling(base + EXPECTED_SUFFIX);
    }

    /**
     * A unified diff turning {@code expected} into {@code actual}, with file headers named
     * {@code expectedName} and {@code actualName}; empty when the two are equal.
     */
    public static List<String> unifiedDiff(String expectedName, List<String> expected, String actualName,
            List<String> actual) {
        if (expected.equals(actual)) {
            return List.of();
        }
        Patch<String> patch = DiffUtils.diff(expected, actual);
        return UnifiedDiffUtils.generateUnifiedDiff(expectedName, actualName, expected, patch, CONTEXT);
    }
}
