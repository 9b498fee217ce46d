package dev.guestmem.vm;

/** A virtual CPU as seen from its own thread: 8-byte aligned guest-physical loads and stores. */
public interface Vcpu {
    /** The vCPU id. */
    int id();

    /** A guest load of the 64-bit word at {@code gpa}. */
    Access read64(long gpa);

    /** A guest store of {@code value} to the 64-bit word at {@code gpa}. */
    Access write64(long gpa, long value);
}
