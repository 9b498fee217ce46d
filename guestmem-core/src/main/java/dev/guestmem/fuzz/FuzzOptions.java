package dev.guestmem.fuzz;

import dev.guestmem.trace.OpKind;
import dev.guestmem.trace.PendingOps;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * What a {@link TraceGenerator} writes: how many operations, which share of them deliberately bad, and
 * which kinds of operation it may use.
 *
 * @param ops number of operations (lines other than the header comment)
 * @param badRatio probability, in {@code [0, 1]}, that an operation is written to be refused
 * @param kinds the operations the generator may write; a subset of {@link #GENERATED}, with guest stores
 *     wherever there are guest loads (a load that rule SHADOW_MMU_PREFETCH forbids is written as a store)
 */
public record FuzzOptions(int ops, double badRatio, Set<OpKind> kinds) {
    /**
     * Every operation the generator can write. Not the guest_memfd and memory-attribute operations: the
     * reference kernel has no private memory ({@code KVM_CAP_MEMORY_ATTRIBUTES} 0) and guest_memfd files
     * are not generated yet; {@code region2} is, with raw fds.
     */
    public static final Set<OpKind> GENERATED = Collections.unmodifiableSet(EnumSet.of(
            OpKind.MMAP, OpKind.MUNMAP, OpKind.MADVISE, OpKind.MPROTECT, OpKind.HOST_WRITE, OpKind.HOST_READ,
            OpKind.REGION, OpKind.REGION2, OpKind.ENABLE_CAP, OpKind.DIRTY_LOG, OpKind.CLEAR_LOG,
            OpKind.GUEST_WRITE, OpKind.GUEST_READ));

    public FuzzOptions {
        if (ops < 0) {
            throw new IllegalArgumentException("ops must not be negative: " + ops);
        }
        if (!(badRatio >= 0 && badRatio <= 1)) {
            throw new IllegalArgumentException("bad ratio must lie in [0, 1]: " + badRatio);
        }
        Objects.requireNonNull(kinds, "kinds");
        if (!GENERATED.containsAll(kinds)) {
            EnumSet<OpKind> unknown = EnumSet.copyOf(kinds);
            unknown.removeAll(GENERATED);
            throw new IllegalArgumentException("the generator cannot write " + unknown);
        }
        if (kinds.contains(OpKind.GUEST_READ) && !kinds.contains(OpKind.GUEST_WRITE)) {
            throw new IllegalArgumentException("guest loads need guest stores: a load the rules forbid becomes one");
        }
        kinds = kinds.isEmpty() ? Set.of() : Collections.unmodifiableSet(EnumSet.copyOf(kinds));
    }

    /**
     * Only operations the replayer implements ({@link PendingOps}): traces that replay to the end. Kinds
     * join by themselves as their subsystems land.
     */
    public static FuzzOptions replayable(int ops, double badRatio) {
        EnumSet<OpKind> kinds = EnumSet.copyOf(GENERATED);
        kinds.removeIf(kind -> !PendingOps.isImplemented(kind));
        return new FuzzOptions(ops, badRatio, kinds);
    }

    /** Every operation the generator can write, replayable or not (for the kernel alone, say). */
    public static FuzzOptions everything(int ops, double badRatio) {
        return new FuzzOptions(ops, badRatio, GENERATED);
    }

    /** Whether some allowed kind is still pending in the replayer. */
    public boolean includesPending() {
        return kinds.stream().anyMatch(kind -> !PendingOps.isImplemented(kind));
    }
}
