package dev.guestmem.cli;

import dev.guestmem.kvm.KvmAvailability;
import dev.guestmem.kvm.KvmVmFactory;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.perf.PerfTarget;
import dev.guestmem.trace.VmFactory;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/** The implementations {@code guestmem perf} can measure, by name. */
final class PerfTargets {
    /** Names accepted by {@code --impl}. */
    static final List<String> NAMES = List.of("tree", "array", "kvm");

    private PerfTargets() {
    }

    /** The target called {@code name}; throws IllegalArgumentException for an unknown name. */
    static PerfTarget of(String name) {
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "tree" -> PerfTarget.engine(VmFactory.engine(), MemslotImpl.TREE);
            case "array" -> PerfTarget.engine(VmFactory.engine(), MemslotImpl.ARRAY);
            case "kvm" -> new PerfTarget("kvm", new KvmVmFactory(), MemslotImpl.TREE, false, Set.of());
            default -> throw new IllegalArgumentException("unknown implementation '" + name + "' (implementations: "
                    + String.join(", ", NAMES) + ")");
        };
    }

    /** Why {@code target} cannot run on this machine, or empty. */
    static Optional<String> unavailable(PerfTarget target) {
        return "kvm".equals(target.name()) ? KvmAvailability.unavailableReason().map(r -> "n/a: " + r)
                : Optional.empty();
    }
}
