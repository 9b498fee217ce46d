package dev.guestmem.cli;

import dev.guestmem.trace.ReplayListener;
import dev.guestmem.trace.Trace;
import dev.guestmem.trace.TraceComment;
import dev.guestmem.trace.TraceOp;
import java.io.PrintWriter;
import java.util.Iterator;

/**
 * Prints a replay as a listing: each operation beside its result ({@code region ... -> ok}), and the
 * trace's whole-line comments as section headings. A block of consecutive comment lines is one
 * section: its first line is the heading ({@code == text}), the others are indented explanation.
 */
final class TourPrinter implements ReplayListener {
    private final PrintWriter out;
    private final Iterator<TraceComment> comments;
    private final int column;
    private TraceComment pending;
    private int lastCommentLine = -1;
    private boolean printedAnything;

    TourPrinter(Trace trace, PrintWriter out) {
        this.out = out;
        this.comments = trace.comments().iterator();
        this.pending = comments.hasNext() ? comments.next() : null;
        this.column = trace.ops().stream().mapToInt(op -> op.source().text().length()).max().orElse(0);
    }

    @Override
    public void onResult(TraceOp op, String result) {
        headingsBefore(op.source().line());
        out.println(String.format("%-" + Math.max(column, 1) + "s -> %s", op.source().text(), result));
        printedAnything = true;
    }

    /** Prints the comments that come after the last operation. */
    void finish() {
        headingsBefore(Integer.MAX_VALUE);
        out.flush();
    }

    private void headingsBefore(int line) {
        while (pending != null && pending.line() < line) {
            boolean continuesBlock = pending.line() == lastCommentLine + 1;
            if (continuesBlock) {
                out.println("   " + pending.text());
            } else {
                if (printedAnything) {
                    out.println();
                }
                out.println("== " + pending.text());
            }
            printedAnything = true;
            lastCommentLine = pending.line();
            pending = comments.hasNext() ? comments.next() : null;
        }
    }
}
