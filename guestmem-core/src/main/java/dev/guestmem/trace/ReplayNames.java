package dev.guestmem.trace;

import java.util.HashMap;
import java.util.Map;

/**
 * Replay-time NAME bindings. A name is defined once its defining operation has succeeded; a later
 * definition of the same name replaces it, and a failed one leaves it undefined (so a trace cannot
 * silently keep using an older mapping after a new {@code mmap} of that name failed). {@code munmap}
 * keeps the name: its address stays meaningful, so later accesses show the faults. Using an
 * undefined name, or a name of the wrong kind, is a usage error naming the line.
 */
final class ReplayNames {
    /** What a name is bound to. */
    sealed interface Binding {
    }

    /** A host mapping {@code [hva, hva + length)}. */
    record Mapping(long hva, long length) implements Binding {
    }

    /** A guest_memfd. */
    record GuestMemfd(int fd) implements Binding {
    }

    private final Map<String, Binding> bindings = new HashMap<>();

    void bind(String name, Binding binding) {
        bindings.put(name, binding);
    }

    void unbind(String name) {
        bindings.remove(name);
    }

    /** The mapping {@code name} is bound to. */
    Mapping mapping(String name, SourceLine use) {
        if (bindings.get(name) instanceof Mapping m) {
            return m;
        }
        throw undefined(name, NameKind.MAPPING, use);
    }

    /** The guest_memfd {@code name} is bound to. */
    int guestMemfd(String name, SourceLine use) {
        if (bindings.get(name) instanceof GuestMemfd g) {
            return g.fd();
        }
        throw undefined(name, NameKind.GUEST_MEMFD, use);
    }

    /** The address an HVA operand stands for; {@code NAME+OFFSET} wraps like the C addition would. */
    long hva(HvaOperand operand, SourceLine use) {
        return switch (operand) {
            case HvaOperand.Address a -> a.value();
            case HvaOperand.Named n -> mapping(n.name(), use).hva() + n.offset();
        };
    }

    /** The fd a GMEM operand stands for. */
    int fd(GmemOperand operand, SourceLine use) {
        return switch (operand) {
            case GmemOperand.Fd f -> f.fd();
            case GmemOperand.Named n -> guestMemfd(n.name(), use);
        };
    }

    private static TraceUsageException undefined(String name, NameKind kind, SourceLine use) {
        return new TraceUsageException(use, "undefined name '" + name + "': no " + kind.definedBy()
                + " of that name has succeeded before this line");
    }
}
