package dev.guestmem.perf;

import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.trace.VmFactory;
import java.util.Locale;
import java.util.Set;

/**
 * One implementation under measurement.
 *
 * @param name          its name in tables, CSV and charts ({@code tree}, {@code array}, {@code kvm})
 * @param factory       makes its VMs
 * @param impl          the engine's memslot design (ignored by the kernel)
 * @param ownsSlotZero  whether the benchmark adds slot 0 itself, as the selftest's VM code slot; the kvm
 *                      backend keeps its own slot for its stub, so there data slot {@code k} is slot
 *                      {@code k - 1} and the reserved slot plays slot 0's part
 * @param needsGuestCode tests not measured on it because their guest loop needs real guest code: the
 *                      kvm backend's vCPU makes one access per {@code KVM_RUN}, so a loop over thousands
 *                      of pages would measure exits, not memslots
 */
public record PerfTarget(String name, VmFactory factory, MemslotImpl impl, boolean ownsSlotZero,
        Set<PerfTest> needsGuestCode) {
    /** An engine implementation: slot 0 added by the benchmark, every test measured. */
    public static PerfTarget engine(VmFactory factory, MemslotImpl impl) {
        return new PerfTarget(impl.name().toLowerCase(Locale.ROOT), factory, impl, true, Set.of());
    }

    /** The memslot id of data slot {@code k} (1-based). */
    public int slotId(int k) {
        return ownsSlotZero ? k : k - 1;
    }
}
