package dev.guestmem.cli;

import dev.guestmem.fuzz.Backend;
import dev.guestmem.fuzz.DifferentialReplayer;
import dev.guestmem.kvm.KvmAvailability;
import dev.guestmem.kvm.KvmVmFactory;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.trace.Trace;
import dev.guestmem.trace.TraceReplayer;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Turns a {@link BackendChoice} into a {@link TraceRunner}: the engine, the KVM backend, or both compared.
 * Where {@code /dev/kvm} cannot be used, a choice that needs it is refused with the reason.
 */
final class Backends {
    private static final Consumer<Trace> NO_PRECHECK = trace -> {
    };

    private final Supplier<Optional<String>> kvmUnavailable;
    private final Backend kvm;

    /** {@code kvmUnavailable} says why {@code kvm} cannot run here, or nothing when it can. */
    Backends(Supplier<Optional<String>> kvmUnavailable, Backend kvm) {
        this.kvmUnavailable = Objects.requireNonNull(kvmUnavailable, "kvmUnavailable");
        this.kvm = Objects.requireNonNull(kvm, "kvm");
    }

    /** The engine and the real {@code /dev/kvm}. */
    static Backends system() {
        return new Backends(KvmAvailability::unavailableReason, new Backend("kvm", new KvmVmFactory()));
    }

    /** Why {@code choice} cannot run here, as one line for stderr; empty when it can. */
    Optional<String> problem(BackendChoice choice) {
        if (choice == BackendChoice.ENGINE) {
            return Optional.empty();
        }
        return kvmUnavailable.get().map(reason -> "--backend " + choice.optionValue() + " needs /dev/kvm, which"
                + " cannot be used here: " + reason);
    }

    /** The runner for {@code choice}; the engine's VMs use memslots of design {@code impl}. */
    TraceRunner runner(BackendChoice choice, MemslotImpl impl) {
        String implLabel = "--impl " + impl.name().toLowerCase(Locale.ROOT);
        return switch (choice) {
            case ENGINE -> new SingleBackendRunner(new TraceReplayer(Backend.engine().factory(), impl), NO_PRECHECK,
                    implLabel);
            case KVM -> new SingleBackendRunner(new TraceReplayer(kvm.factory(), impl), KvmReach::check,
                    "--backend kvm");
            case BOTH -> new DifferentialRunner(new DifferentialReplayer(Backend.engine(), kvm, impl),
                    KvmReach::check, "--backend both " + implLabel);
        };
    }
}
