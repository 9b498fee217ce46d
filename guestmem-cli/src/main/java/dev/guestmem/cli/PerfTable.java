package dev.guestmem.cli;

import dev.guestmem.perf.PerfCell;
import dev.guestmem.perf.PerfTest;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The table of {@code guestmem perf}, in the seed's shape: a row per test, and per slot count the
 * {@code array} ("before") and {@code tree} ("after") times with the improvement, then any other
 * implementation (kvm). Markdown, so it pastes into docs. Skipped cells get a short mark; the reasons
 * follow the table, one line each.
 */
final class PerfTable {
    private final List<PerfTest> tests;
    private final List<Integer> slots;
    private final List<String> impls;
    private final List<PerfCell> cells;

    PerfTable(List<PerfTest> tests, List<Integer> slots, List<String> impls, List<PerfCell> cells) {
        this.tests = tests;
        this.slots = slots;
        this.impls = impls;
        this.cells = cells;
    }

    void print(PrintWriter out) {
        List<String> columns = columns();
        List<String> header = new ArrayList<>(List.of("test"));
        for (int s : slots) {
            columns.forEach(c -> header.add(s + " " + c));
        }
        row(out, header);
        row(out, header.stream().map(h -> "---").toList());
        for (PerfTest t : tests) {
            List<String> line = new ArrayList<>(List.of(t == PerfTest.SETUP ? "setup (total s)" : t.cliName() + " (s/it)"));
            for (int s : slots) {
                for (String c : columns) {
                    line.add(c.equals("impr.") ? improvement(t, s) : value(t, s, c));
                }
            }
            row(out, line);
        }
        Set<String> notes = new LinkedHashSet<>();
        for (PerfCell c : cells) {
            if (!c.isMeasured()) {
                notes.add(c.test().cliName() + ", " + c.slots() + " slots, " + c.impl() + ": " + c.skipped());
            }
        }
        if (!notes.isEmpty()) {
            out.println();
            notes.forEach(n -> out.println("skipped: " + n));
        }
        out.flush();
    }

    /** Per slot count: array, tree, their improvement (when both are measured), then the rest. */
    private List<String> columns() {
        List<String> columns = new ArrayList<>();
        for (String impl : List.of("array", "tree")) {
            if (impls.contains(impl)) {
                columns.add(impl);
            }
        }
        if (impls.contains("array") && impls.contains("tree")) {
            columns.add("impr.");
        }
        impls.stream().filter(i -> !i.equals("array") && !i.equals("tree")).forEach(columns::add);
        return columns;
    }

    private String value(PerfTest t, int s, String impl) {
        return cell(t, s, impl).map(c -> c.isMeasured() ? seconds(c.seconds()) : shortReason(c.skipped())).orElse("");
    }

    /** (array - tree) / array: the seed's "improvement". */
    private String improvement(PerfTest t, int s) {
        Optional<PerfCell> array = cell(t, s, "array").filter(PerfCell::isMeasured);
        Optional<PerfCell> tree = cell(t, s, "tree").filter(PerfCell::isMeasured);
        if (array.isEmpty() || tree.isEmpty()) {
            return "";
        }
        double a = array.get().seconds();
        return String.format(Locale.ROOT, "%.0f%%", (a - tree.get().seconds()) / a * 100);
    }

    private Optional<PerfCell> cell(PerfTest t, int s, String impl) {
        return cells.stream().filter(c -> c.test() == t && c.slots() == s && c.impl().equals(impl)).findFirst();
    }

    static String seconds(double s) {
        return String.format(Locale.ROOT, "%.3g", s);
    }

    private static String shortReason(String reason) {
        return reason.startsWith("n/a") ? reason : "infeasible";
    }

    private static void row(PrintWriter out, List<String> cells) {
        out.println("| " + String.join(" | ", cells) + " |");
    }
}
