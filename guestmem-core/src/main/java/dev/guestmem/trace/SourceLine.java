package dev.guestmem.trace;

import java.util.Objects;

/**
 * Where an operation came from: the trace file as it was named, the 1-based line number, and the
 * operation's text (its tokens joined by single spaces, comment removed) for listings such as the tour.
 */
public record SourceLine(String file, int line, String text) {
    public SourceLine {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(text, "text");
        if (line < 1) {
            throw new IllegalArgumentException("line numbers start at 1: " + line);
        }
    }

    /** {@code FILE:LINE}, the prefix of every diagnostic about this line. */
    public String where() {
        return file + ":" + line;
    }
}
