package dev.guestmem.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code guestmem run --stats}: result lines on stdout unchanged, the MMU's counters on stderr. */
class RunStatsTest {
    @TempDir
    Path dir;

    private Path trace(String... lines) throws IOException {
        Path file = dir.resolve("t.gmt");
        Files.write(file, List.of(lines));
        return file;
    }

    private static Map<String, Long> stats(String err) {
        return err.lines().filter(l -> l.startsWith("# stat ")).map(l -> l.split(" "))
                .collect(Collectors.toMap(p -> p[2], p -> Long.parseLong(p[3])));
    }

    @Test
    void statsGoToStderrAfterTheResultLines() throws IOException {
        Path t = trace("mmap a 0x4000", "region 1 0 0xC0000000 0x4000 a", "w 0xC0000000 5", "r 0xC0000000",
                "r 0xC0001000", "r 0xD0000000");
        CliRun plain = CliRun.of("run", t.toString());
        CliRun run = CliRun.of("run", "--stats", t.toString());
        assertEquals(0, run.exitCode(), run.err());
        assertEquals(plain.out(), run.out(), "stdout is exactly the result lines");
        assertEquals(List.of("ok", "ok", "ok", "val 0x5", "val 0x0", "mmio"), run.outLines());
        Map<String, Long> stats = stats(run.err());
        assertEquals(2, stats.get("pf_fixed"), "the store and the read of the second page faulted");
        assertEquals(2, stats.get("pages_4k"), "counted before the VM was closed");
        assertEquals(1, stats.get("pf_mmio_spte_created"));
        assertEquals(1, stats.get("mmio_exits"));
        assertTrue(stats.containsKey("remote_tlb_flush"));
        assertTrue(plain.err().isEmpty(), "nothing on stderr without --stats");
    }

    @Test
    void statsNeedTheEngine() throws IOException {
        CliRun run = CliRun.of("run", "--stats", "--backend", "kvm", trace("mmap a 0x1000").toString());
        assertEquals(ExitCode.USAGE, run.exitCode());
        assertTrue(run.err().contains("--stats needs --backend engine"), run.err());
    }
}
