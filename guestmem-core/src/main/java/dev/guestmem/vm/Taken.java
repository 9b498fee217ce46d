package dev.guestmem.vm;

/**
 * How a {@link Vcpu#takeStrided} loop ended.
 *
 * @param count how many words held the expected value and were cleared
 * @param exit  the exit of the load or store that stopped the loop, or null if it took every word or
 *              stopped at a word holding something else
 */
public record Taken(long count, Access exit) {
}
