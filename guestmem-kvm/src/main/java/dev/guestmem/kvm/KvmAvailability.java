package dev.guestmem.kvm;

import java.util.Optional;

/**
 * Whether this process can use {@code /dev/kvm}, for callers (tests, the command line) that must skip
 * or refuse the KVM backend with a reason instead of failing.
 */
public final class KvmAvailability {
    /** Computed once: the device does not come and go while a JVM runs. */
    private static final Optional<String> REASON = probe();

    private KvmAvailability() {
    }

    /** Empty when {@code /dev/kvm} opens read-write and speaks API 12; else why not. */
    public static Optional<String> unavailableReason() {
        return REASON;
    }

    /** Whether the KVM backend can run here. */
    public static boolean isAvailable() {
        return REASON.isEmpty();
    }

    private static Optional<String> probe() {
        try (KvmDevice _ = KvmDevice.open()) {
            return Optional.empty();
        } catch (KvmException e) {
            return Optional.of(e.getMessage());
        } catch (LinkageError | UnsupportedOperationException e) {
            // Native access disabled or libc missing: as unusable as a missing device.
            return Optional.of("native calls unavailable: " + e);
        }
    }
}
