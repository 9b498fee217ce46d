package dev.guestmem.kvm;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Optional;

/** Skips a test, with a printed reason, where {@code /dev/kvm} is missing or not accessible. */
final class KvmAssumptions {
    private KvmAssumptions() {
    }

    /** Aborts the calling test (as skipped) unless the KVM backend can run here. */
    static void assumeKvm(String test) {
        Optional<String> reason = KvmAvailability.unavailableReason();
        if (reason.isPresent()) {
            System.out.println(test + " skipped: " + reason.get());
        }
        assumeTrue(reason.isEmpty(), () -> "KVM backend unavailable: " + reason.orElse(""));
    }
}
