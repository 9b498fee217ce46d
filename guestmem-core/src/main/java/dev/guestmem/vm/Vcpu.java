package dev.guestmem.vm;

import dev.guestmem.mmu.VcpuStats;
import dev.guestmem.vcpu.AccessGuest;
import dev.guestmem.vcpu.GuestCode;
import java.util.Optional;

/** A virtual CPU as seen from its own thread: 8-byte aligned guest-physical loads and stores. */
public interface Vcpu {
    /** The vCPU id. */
    int id();

    /** A guest load of the 64-bit word at {@code gpa}. */
    Access read64(long gpa);

    /** A guest store of {@code value} to the 64-bit word at {@code gpa}. */
    Access write64(long gpa, long value);

    /**
     * A guest loop of up to {@code count} stores of {@code value} to {@code gpa}, {@code gpa + stride}, ...
     * in that order, as one piece of guest code (a backend with real guest code runs it in one guest
     * entry). It stops at the first store that does not complete in memory.
     *
     * @return {@link Access#STORED} if every store completed, else the outcome of the first that did not
     */
    default Access fillStrided(long gpa, long count, long stride, long value) {
        for (long i = 0; i < count; i++) {
            Access a = write64(gpa + i * stride, value);
            if (a != Access.STORED) {
                return a;
            }
        }
        return Access.STORED;
    }

    /**
     * A guest loop over up to {@code count} words {@code stride} bytes apart from {@code gpa}: each must
     * hold {@code expected}, and is then set to 0. It stops at the first word holding something else, or
     * whose load or store does not complete in memory (see {@link Taken}).
     */
    default Taken takeStrided(long gpa, long count, long stride, long expected) {
        for (long i = 0; i < count; i++) {
            long at = gpa + i * stride;
            Access a = read64(at);
            if (!(a instanceof Access.Value(long value))) {
                return new Taken(i, a);
            }
            if (value != expected) {
                return new Taken(i, null);
            }
            a = write64(at, 0);
            if (a != Access.STORED) {
                return new Taken(i, a);
            }
        }
        return new Taken(count, null);
    }

    /**
     * Runs {@code code} on the calling thread as this vCPU's guest code until it returns. The default makes
     * each access one {@link #read64} or {@link #write64}; the engine's vCPU stays in guest mode between
     * accesses, with its TLB live.
     */
    default void run(GuestCode code) {
        code.run(new AccessGuest(this));
    }

    /** The vCPU's statistics, if the backend keeps any. */
    default Optional<VcpuStats> stats() {
        return Optional.empty();
    }
}
