package dev.guestmem.trace;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The operands of one trace line, with typed accessors that turn every malformed or out-of-range
 * operand into a {@link TraceUsageException} naming the line. Numbers are decimal or {@code 0x} hex,
 * read as unsigned 64-bit (trace-format.md, lexical rules); no sign, no octal.
 */
final class Operands {
    private static final Pattern DECIMAL = Pattern.compile("[0-9]+");
    private static final Pattern HEX = Pattern.compile("0[xX][0-9a-fA-F]+");
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final long U32_MAX = 0xFFFF_FFFFL;

    private final SourceLine source;
    private final List<String> words;
    private final DeclaredNames names;

    private Operands(SourceLine source, List<String> words, DeclaredNames names) {
        this.source = source;
        this.words = words;
        this.names = names;
    }

    /** The operands of a {@code kind} line, after checking their count against its synopsis. */
    static Operands of(SourceLine source, OpKind kind, List<String> words, DeclaredNames names) {
        int n = words.size();
        if (n < kind.minOperands() || n > kind.maxOperands()) {
            String expected = kind.minOperands() == kind.maxOperands()
                    ? String.valueOf(kind.minOperands())
                    : kind.minOperands() + " or " + kind.maxOperands();
            throw new TraceUsageException(source, kind.keyword() + " takes " + expected + " operand"
                    + (kind.maxOperands() == 1 ? "" : "s") + " (" + kind.keyword() + " " + kind.synopsis()
                    + "), got " + n);
        }
        return new Operands(source, words, names);
    }

    SourceLine source() {
        return source;
    }

    int count() {
        return words.size();
    }

    String word(int i) {
        return words.get(i);
    }

    /** A usage error about this line. */
    TraceUsageException error(String problem) {
        return new TraceUsageException(source, problem);
    }

    /** Operand {@code i} as an unsigned 64-bit number. */
    long u64(int i, String field) {
        return number(word(i), field);
    }

    /** Operand {@code i} as an unsigned 32-bit uAPI field, carried in an {@code int}. */
    int u32(int i, String field) {
        return (int) atMost(i, field, U32_MAX, "does not fit in 32 bits");
    }

    /** Operand {@code i} as an unsigned number no larger than {@code max}. */
    long atMost(int i, String field, long max, String why) {
        long value = u64(i, field);
        if (Long.compareUnsigned(value, max) > 0) {
            throw error(field + " " + word(i) + " " + why);
        }
        return value;
    }

    /** Operand {@code i} as a NAME that this line defines. */
    String newName(int i, String field) {
        String word = word(i);
        if (!NAME.matcher(word).matches()) {
            throw error("bad " + field + " '" + word + "': a name is a letter or '_' followed by letters, digits"
                    + " or '_'");
        }
        return word;
    }

    /** Operand {@code i} as a NAME that an earlier line defines as {@code kind}. */
    String usedName(int i, String field, NameKind kind) {
        String name = newName(i, field);
        names.require(name, kind, source);
        return name;
    }

    /** Operand {@code i} as an HVA: {@code NAME}, {@code NAME+OFFSET} or a raw number. */
    HvaOperand hva(int i) {
        String word = word(i);
        if (startsLikeNumber(word)) {
            return new HvaOperand.Address(number(word, "HVA"));
        }
        int plus = word.indexOf('+');
        String name = plus < 0 ? word : word.substring(0, plus);
        if (!NAME.matcher(name).matches()) {
            throw error("bad HVA '" + word + "': expected NAME, NAME+OFFSET or a number");
        }
        names.require(name, NameKind.MAPPING, source);
        long offset = plus < 0 ? 0 : number(word.substring(plus + 1), "HVA offset");
        return new HvaOperand.Named(name, offset);
    }

    /** Operand {@code i} as a guest_memfd: a NAME, a raw fd ({@code u32}) or a negative decimal fd. */
    GmemOperand gmem(int i) {
        String word = word(i);
        if (word.startsWith("-") && DECIMAL.matcher(word.substring(1)).matches()) {
            long magnitude = number(word.substring(1), "GMEM");
            if (Long.compareUnsigned(magnitude, 1L << 31) > 0) {
                throw error("GMEM " + word + " does not fit in 32 bits");
            }
            return new GmemOperand.Fd((int) -magnitude);
        }
        if (startsLikeNumber(word)) {
            return new GmemOperand.Fd(u32(i, "GMEM"));
        }
        return new GmemOperand.Named(usedName(i, "GMEM", NameKind.GUEST_MEMFD));
    }

    /** Operand {@code i} as one of a fixed set of keywords. */
    <T> T choice(int i, String field, Map<String, T> choices) {
        T value = choices.get(word(i));
        if (value == null) {
            throw error("bad " + field + " '" + word(i) + "': expected one of "
                    + String.join(", ", choices.keySet().stream().sorted().toList()));
        }
        return value;
    }

    /** {@code token} as an unsigned 64-bit number, or a usage error naming {@code field}. */
    long number(String token, String field) {
        try {
            if (HEX.matcher(token).matches()) {
                return Long.parseUnsignedLong(token.substring(2), 16);
            }
            if (DECIMAL.matcher(token).matches()) {
                return Long.parseUnsignedLong(token);
            }
        } catch (NumberFormatException tooLarge) {
            throw error(field + " " + token + " does not fit in 64 bits");
        }
        throw error("bad number '" + token + "' for " + field + ": expected decimal or 0x hex");
    }

    private static boolean startsLikeNumber(String word) {
        char c = word.charAt(0);
        return c >= '0' && c <= '9';
    }
}
