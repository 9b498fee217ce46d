package dev.guestmem.cli;

import dev.guestmem.perf.PerfCell;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** {@code --csv}: one row {@code test,slots,impl,seconds,iterations} per measured cell. */
final class PerfCsv {
    static final String HEADER = "test,slots,impl,seconds,iterations";

    private PerfCsv() {
    }

    static void write(Path file, List<PerfCell> cells) throws IOException {
        List<String> lines = new ArrayList<>(List.of(HEADER));
        for (PerfCell c : cells) {
            if (c.isMeasured()) {
                lines.add(String.format(Locale.ROOT, "%s,%d,%s,%.9g,%d", c.test().cliName(), c.slots(), c.impl(),
                        c.seconds(), c.iterations()));
            }
        }
        Files.write(file, lines);
    }
}
