package dev.guestmem.vm;

/** The outcome of one guest access, as {@code KVM_RUN} would report it. */
public sealed interface Access {
    /** A load completed with {@code value}. */
    record Value(long value) implements Access {
    }

    /** A store completed. */
    record Stored() implements Access {
    }

    /**
     * The access left the VM as an MMIO exit: no usable memslot, a slot being deleted or moved, or a
     * store to a read-only memslot. A load completes with 0.
     */
    record Mmio(long gpa, boolean write) implements Access {
    }

    /** {@code KVM_RUN} fails with {@code EFAULT}: the host page is missing or forbids the access. */
    record Efault(long gpa) implements Access {
    }

    /** {@code KVM_EXIT_MEMORY_FAULT}: private/shared mismatch or private memory that cannot be served. */
    record MemoryFault(long gpa, long size, boolean isPrivate) implements Access {
    }

    /**
     * {@code KVM_EXIT_DIRTY_RING_FULL}: the vCPU's dirty ring reached its soft limit, so the vCPU did not
     * enter the guest and the access did not happen (a load completes with 0, a store is not done). The
     * VMM harvests the ring, calls {@code resetDirtyRings}, and runs the access again; until the reset
     * brings the ring below its limit every access exits like this (spec §4.6).
     */
    record RingFull() implements Access {
    }

    /** The shared instance for completed stores. */
    Stored STORED = new Stored();

    /** The shared instance for dirty-ring-full exits. */
    RingFull RING_FULL = new RingFull();
}
