package dev.guestmem.fuzz;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * Cuts a failing trace down to lines it needs: removes chunks of lines, halving the chunk size, for as
 * long as the rest still fails, until no single line can go (a 1-minimal trace, in the sense of delta
 * debugging). The test decides what failing means; it must answer false for texts that do not parse or
 * break a rule, so that removing a definition or the first access does not pass for a smaller failure.
 */
public final class TraceShrinker {
    private TraceShrinker() {
    }

    /** The smallest sublist of {@code lines} found for which {@code fails} holds; {@code lines} must fail. */
    public static List<String> shrink(List<String> lines, Predicate<List<String>> fails) {
        Objects.requireNonNull(fails, "fails");
        List<String> current = new ArrayList<>(lines);
        if (!fails.test(List.copyOf(current))) {
            throw new IllegalArgumentException("the trace to shrink does not fail");
        }
        int chunk = Math.max(1, current.size() / 2);
        while (true) {
            boolean removedAny = false;
            for (int start = 0; start < current.size(); ) {
                int end = Math.min(current.size(), start + chunk);
                List<String> candidate = new ArrayList<>(current.subList(0, start));
                candidate.addAll(current.subList(end, current.size()));
                if (fails.test(List.copyOf(candidate))) {
                    current = candidate;
                    removedAny = true;
                } else {
                    start = end;
                }
            }
            if (chunk == 1 && !removedAny) {
                return List.copyOf(current);
            }
            chunk = Math.max(1, removedAny ? chunk : chunk / 2);
        }
    }
}
