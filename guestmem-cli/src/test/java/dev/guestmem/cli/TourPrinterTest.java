package dev.guestmem.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.guestmem.trace.Trace;
import dev.guestmem.trace.TraceParser;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

class TourPrinterTest {
    @Test
    void commentsBecomeHeadingsAndOperationsStandBesideTheirResults() {
        Trace trace = TraceParser.parse("t.gmt", """
                # Title
                # more about it

                # Section
                region 1 0 0 0 0
                region 22 0 0 0 0   # inline comments are not headings
                # Another
                r 0
                # Trailing note
                """);
        StringWriter text = new StringWriter();
        TourPrinter printer = new TourPrinter(trace, new PrintWriter(text, true));
        printer.onResult(trace.ops().get(0), "err EINVAL");
        printer.onResult(trace.ops().get(1), "err EINVAL");
        printer.onResult(trace.ops().get(2), "mmio");
        printer.finish();
        assertEquals(List.of(
                "== Title",
                "   more about it",
                "",
                "== Section",
                "region 1 0 0 0 0  -> err EINVAL",
                "region 22 0 0 0 0 -> err EINVAL",
                "",
                "== Another",
                "r 0               -> mmio",
                "",
                "== Trailing note"), text.toString().lines().toList());
    }
}
