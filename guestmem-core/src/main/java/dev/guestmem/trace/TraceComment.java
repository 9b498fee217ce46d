package dev.guestmem.trace;

/** A whole-line comment of a trace: its line number and its text after {@code #}, trimmed. */
public record TraceComment(int line, String text) {
}
