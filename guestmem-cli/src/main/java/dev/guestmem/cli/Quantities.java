package dev.guestmem.cli;

import java.util.Locale;

/**
 * Numbers with a unit suffix on the command line: sizes in bytes with binary suffixes ({@code 256M},
 * {@code 1G}, {@code 1GiB}) and counts with decimal ones ({@code 200k}, {@code 2m}).
 */
final class Quantities {
    private Quantities() {
    }

    /** {@code 4096}, {@code 64K}, {@code 256M}, {@code 1G}, {@code 1GiB}, {@code 512MB}: bytes (powers of 1024). */
    static long bytes(String text) {
        String t = text.trim().toUpperCase(Locale.ROOT).replace("IB", "").replace("B", "");
        return scaled(text, t, 1024);
    }

    /** {@code 1000}, {@code 200k}, {@code 2m}: a count (powers of 1000). */
    static long count(String text) {
        return scaled(text, text.trim().toUpperCase(Locale.ROOT), 1000);
    }

    private static long scaled(String original, String t, long base) {
        if (t.isEmpty()) {
            throw new IllegalArgumentException("'" + original + "' is not a number");
        }
        int exponent = switch (t.charAt(t.length() - 1)) {
            case 'K' -> 1;
            case 'M' -> 2;
            case 'G' -> 3;
            case 'T' -> 4;
            default -> 0;
        };
        String digits = exponent == 0 ? t : t.substring(0, t.length() - 1);
        try {
            long value = Long.parseLong(digits);
            for (int i = 0; i < exponent; i++) {
                value = Math.multiplyExact(value, base);
            }
            return value;
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("'" + original + "' is not a number with an optional K/M/G suffix");
        }
    }

    /** {@code 1.5 GiB}, {@code 12.0 MiB}, {@code 512 B}. */
    static String formatBytes(double bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        int u = 0;
        while (bytes >= 1024 && u < units.length - 1) {
            bytes /= 1024;
            u++;
        }
        return u == 0 ? String.format(Locale.ROOT, "%.0f %s", bytes, units[u])
                : String.format(Locale.ROOT, "%.1f %s", bytes, units[u]);
    }
}
