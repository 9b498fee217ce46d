package dev.guestmem.cli;

import dev.guestmem.trace.Trace;
import dev.guestmem.trace.TraceParser;
import dev.guestmem.trace.TraceReplayer;
import dev.guestmem.trace.VmFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code guestmem tour}: replays a built-in, commented trace, each operation beside its result. */
@Command(name = "tour", mixinStandardHelpOptions = true,
        description = {"Walks through memslots on the engine: creating, aliasing, moving and deleting slots,",
            "read-only slots, host discards and protection, and the typical errors."})
public final class TourCommand implements Callable<Integer> {
    /** The tour's trace, a resource beside this class; diagnostics name it by this file name. */
    static final String TOUR_RESOURCE = "tour.gmt";

    @Spec
    private CommandSpec spec;

    @Mixin
    private ImplOption implOption;

    @Override
    public Integer call() {
        Trace trace = TraceParser.parse(TOUR_RESOURCE, tourText());
        PrintWriter out = spec.commandLine().getOut();
        TourPrinter printer = new TourPrinter(trace, out);
        try {
            new TraceReplayer(VmFactory.engine(), implOption.impl()).replay(trace, printer);
        } finally {
            out.flush();
        }
        printer.finish();
        return ExitCode.OK;
    }

    /** The text of the built-in tour trace. */
    static String tourText() {
        try (InputStream in = TourCommand.class.getResourceAsStream(TOUR_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + TOUR_RESOURCE + " is missing from the build");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
