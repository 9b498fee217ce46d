package dev.guestmem.fuzz;

import dev.guestmem.trace.OpKind;
import java.util.Set;

/** Writes trace lines of a few related operation kinds, keeping the exclusion rules. */
interface OpWriter {
    /** The kinds this writer writes. */
    Set<OpKind> kinds();

    /** Whether a {@code kind} line can be written now (a name to use is bound, a rule allows it, ...). */
    boolean canWrite(OpKind kind);

    /** A {@code kind} line; {@code bad} asks for one the callee refuses, as far as the writer can tell. */
    String write(OpKind kind, boolean bad);
}
