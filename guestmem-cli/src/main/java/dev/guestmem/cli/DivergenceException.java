package dev.guestmem.cli;

import dev.guestmem.fuzz.Comparison;
import java.util.List;

/** Two backends printed different lines for one operation of a trace. */
final class DivergenceException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient Comparison.Divergence divergence;
    private final String firstName;
    private final String secondName;

    DivergenceException(Comparison.Divergence divergence, String firstName, String secondName) {
        super("DIVERGENCE " + divergence.op().source().where() + ": " + divergence.op().source().text());
        this.divergence = divergence;
        this.firstName = firstName;
        this.secondName = secondName;
    }

    Comparison.Divergence divergence() {
        return divergence;
    }

    /** {@code DIVERGENCE FILE:LINE: OP}, then each backend's result on a line of its own. */
    List<String> report() {
        return List.of(getMessage(), firstName + ": " + divergence.first(), secondName + ": " + divergence.second());
    }
}
