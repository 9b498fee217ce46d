package dev.guestmem.fuzz;

import java.util.List;
import java.util.SplittableRandom;

/**
 * The random choices of one generator run. Everything is drawn from one {@link SplittableRandom}, whose
 * sequence for a seed is specified, so a seed fixes the whole trace on any JDK.
 */
final class Dice {
    private final SplittableRandom random;

    Dice(long seed) {
        this.random = new SplittableRandom(seed);
    }

    /** True with probability {@code p}. */
    boolean chance(double p) {
        return random.nextDouble() < p;
    }

    /** Uniform in {@code [0, bound)}. */
    int below(int bound) {
        return random.nextInt(bound);
    }

    /** Uniform in {@code [low, high]}. */
    long between(long low, long high) {
        return random.nextLong(low, high + 1);
    }

    /** Any 64-bit value. */
    long anyLong() {
        return random.nextLong();
    }

    <T> T pick(List<T> items) {
        return items.get(below(items.size()));
    }

    long pick(long... values) {
        return values[below(values.length)];
    }

    int pick(int... values) {
        return values[below(values.length)];
    }

    /** An index into {@code weights}, each chosen in proportion to its weight. */
    int weighted(int... weights) {
        int total = 0;
        for (int w : weights) {
            total += w;
        }
        int roll = below(total);
        for (int i = 0; i < weights.length; i++) {
            roll -= weights[i];
            if (roll < 0) {
                return i;
            }
        }
        throw new IllegalStateException("unreachable: weights " + total);
    }
}
