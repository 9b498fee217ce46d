package dev.guestmem.mmu;

import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * Test knobs of the MMU: schedule points, fault injection and an install observer. {@link #DEFAULT}
 * is what every production VM uses: no points, no mutation, no observer.
 *
 * @param interleaver     schedule points for deterministic race tests
 * @param mutations       protective steps removed (test only, see {@link MmuMutation})
 * @param installObserver told about every leaf a fault installs
 */
public record MmuOptions(Interleaver interleaver, Set<MmuMutation> mutations, InstallObserver installObserver) {
    /** No schedule points, no mutations, no observer. */
    public static final MmuOptions DEFAULT = new MmuOptions(Interleaver.NONE, Set.of(), InstallObserver.NONE);

    public MmuOptions {
        Objects.requireNonNull(interleaver, "interleaver");
        Objects.requireNonNull(installObserver, "installObserver");
        mutations = mutations.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(mutations));
    }

    /** These options with {@code interleaver}. */
    public MmuOptions withInterleaver(Interleaver value) {
        return new MmuOptions(value, mutations, installObserver);
    }

    /** These options with {@code mutation} added (test only). */
    public MmuOptions withMutation(MmuMutation mutation) {
        EnumSet<MmuMutation> set = mutations.isEmpty() ? EnumSet.noneOf(MmuMutation.class) : EnumSet.copyOf(mutations);
        set.add(mutation);
        return new MmuOptions(interleaver, set, installObserver);
    }

    /** These options with {@code observer}. */
    public MmuOptions withInstallObserver(InstallObserver observer) {
        return new MmuOptions(interleaver, mutations, observer);
    }

    /** Whether {@code mutation} is injected. */
    public boolean has(MmuMutation mutation) {
        return mutations.contains(mutation);
    }
}
