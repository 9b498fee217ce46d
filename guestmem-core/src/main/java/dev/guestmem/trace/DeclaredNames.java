package dev.guestmem.trace;

import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Parse-time name check: a NAME may only be used after a line that can define it as that kind. This
 * catches typos before anything runs; whether the defining operation actually succeeded is checked
 * again at replay time ({@link ReplayNames}).
 */
final class DeclaredNames {
    private final Map<String, Set<NameKind>> kinds = new HashMap<>();

    /** Records that a line textually defines {@code name} as {@code kind} (from the next line on). */
    void declare(String name, NameKind kind) {
        kinds.computeIfAbsent(name, n -> EnumSet.noneOf(NameKind.class)).add(kind);
    }

    /** Throws a usage error unless an earlier line defines {@code name} as {@code kind}. */
    void require(String name, NameKind kind, SourceLine source) {
        Set<NameKind> declared = kinds.get(name);
        if (declared == null || !declared.contains(kind)) {
            throw new TraceUsageException(source, "undefined name '" + name + "': no earlier " + kind.definedBy()
                    + " line defines it");
        }
    }
}
