package dev.guestmem.fuzz;

import dev.guestmem.trace.TraceOp;
import java.util.Objects;

/** The operation of a trace that breaks an {@link ExclusionRule}. */
public record RuleViolation(ExclusionRule rule, TraceOp op) {
    public RuleViolation {
        Objects.requireNonNull(rule, "rule");
        Objects.requireNonNull(op, "op");
    }

    /** {@code FILE:LINE: OP: breaks RULE (summary)}. */
    public String describe() {
        return op.source().where() + ": " + op.source().text() + ": breaks " + rule + " (" + rule.summary() + ")";
    }
}
