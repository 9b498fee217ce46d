package dev.guestmem.fuzz;

import dev.guestmem.trace.OpKind;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a random {@code .gmt} trace: host mappings, memslot layouts good and bad, guest and host
 * accesses, dirty logs (as far as {@link FuzzOptions#kinds()} allows), keeping every
 * {@link ExclusionRule}. Deterministic: the same seed and options give the same text. Every line it writes
 * parses, and names are used only while bound, so a trace never stops with a usage error.
 *
 * <p>The trace starts with a header comment naming the seed and options, then come {@code ops}
 * operations of weighted random kinds.
 */
public final class TraceGenerator {
    /** Relative frequencies of the operation kinds. */
    private static final Map<OpKind, Integer> WEIGHTS = weights();

    private final FuzzOptions options;
    private final Dice dice;
    private final FuzzState state = new FuzzState();
    private final Map<OpKind, OpWriter> writers = new EnumMap<>(OpKind.class);

    private TraceGenerator(long seed, FuzzOptions options) {
        this.options = options;
        this.dice = new Dice(seed);
        for (OpWriter writer : List.of(new AccessOpWriter(state, dice), new HostOpWriter(state, dice), new RegionOpWriter(state, dice),
                new DirtyLogOpWriter(state, dice))) {
            writer.kinds().forEach(kind -> writers.put(kind, writer));
        }
    }

    /** The trace for {@code seed}, header comment included, one line per element. */
    public static List<String> lines(long seed, FuzzOptions options) {
        return new TraceGenerator(seed, options).generate(seed);
    }

    /** The trace for {@code seed} as the text of a {@code .gmt} file. */
    public static String text(long seed, FuzzOptions options) {
        return String.join("\n", lines(seed, options)) + "\n";
    }

    private List<String> generate(long seed) {
        List<String> lines = new ArrayList<>();
        lines.add(header(seed));
        for (int i = 0; i < options.ops(); i++) {
            OpKind kind = nextKind();
            lines.add(writers.get(kind).write(kind, dice.chance(options.badRatio())));
        }
        return lines;
    }

    private String header(long seed) {
        return "# guestmem fuzz --seed " + seed + " --ops " + options.ops() + " --bad-ratio " + options.badRatio()
                + (options.includesPending() ? " --include-pending" : "");
    }

    /** A kind the options allow and a writer can write now; memory comes first while none is mapped. */
    private OpKind nextKind() {
        if (state.boundNames().isEmpty() && writable(OpKind.MMAP) && dice.chance(0.7)) {
            return OpKind.MMAP;
        }
        List<OpKind> kinds = options.kinds().stream().filter(this::writable).toList();
        if (kinds.isEmpty()) {
            throw new IllegalStateException("no operation kind can be written with " + options.kinds());
        }
        return kinds.get(dice.weighted(kinds.stream().mapToInt(WEIGHTS::get).toArray()));
    }

    private boolean writable(OpKind kind) {
        return options.kinds().contains(kind) && writers.get(kind).canWrite(kind);
    }

    private static Map<OpKind, Integer> weights() {
        Map<OpKind, Integer> w = new EnumMap<>(OpKind.class);
        w.put(OpKind.GUEST_WRITE, 16);
        w.put(OpKind.GUEST_READ, 16);
        w.put(OpKind.REGION, 22);
        w.put(OpKind.REGION2, 4);
        w.put(OpKind.MMAP, 6);
        w.put(OpKind.MUNMAP, 1);
        w.put(OpKind.MADVISE, 4);
        w.put(OpKind.MPROTECT, 4);
        w.put(OpKind.HOST_WRITE, 4);
        w.put(OpKind.HOST_READ, 3);
        w.put(OpKind.DIRTY_LOG, 8);
        w.put(OpKind.CLEAR_LOG, 5);
        w.put(OpKind.ENABLE_CAP, 1);
        if (!w.keySet().containsAll(FuzzOptions.GENERATED)) {
            throw new IllegalStateException("a generated kind has no weight");
        }
        return w;
    }
}
