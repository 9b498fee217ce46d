package dev.guestmem.vcpu;

import dev.guestmem.vm.Access;
import dev.guestmem.vm.Vcpu;

/**
 * What guest code sees while its vCPU runs it ({@link GuestCode}): 8-byte aligned loads and stores by
 * guest-physical address. An access either completes in memory or leaves the VM ({@link #lastExit()}),
 * as if userspace handled the exit and entered the guest again: an MMIO load completes with 0, a store
 * that exits is dropped. No allocation on accesses that complete in memory.
 */
public interface Guest {
    /** The id of the vCPU running the code. */
    int vcpuId();

    /** A load; 0 when it exited (see {@link #lastExit()}). */
    long read64(long gpa);

    /** A store; true if it completed (in memory or emulated), false when it exited. */
    boolean write64(long gpa, long value);

    /**
     * Up to {@code count} stores of {@code value} to {@code gpa}, {@code gpa + stride}, ..., stopping at the
     * first that exits ({@link Vcpu#fillStrided}); true if all completed, else see {@link #lastExit()}.
     */
    default boolean fill(long gpa, long count, long stride, long value) {
        for (long i = 0; i < count; i++) {
            if (!write64(gpa + i * stride, value)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Takes up to {@code count} words {@code stride} bytes apart from {@code gpa}: each must hold
     * {@code expected} and is set to 0 ({@link Vcpu#takeStrided}). Returns how many were taken; when fewer
     * than {@code count}, {@link #lastExit()} is the exit that stopped the loop, or null if the next word
     * held something else.
     */
    default long take(long gpa, long count, long stride, long expected) {
        for (long i = 0; i < count; i++) {
            long at = gpa + i * stride;
            long value = read64(at);
            if (lastExit() != null || value != expected || !write64(at, 0)) {
                return i;
            }
        }
        return count;
    }

    /** The exit of the most recent access ({@code Mmio}, {@code Efault}, ...), or null if it completed. */
    Access lastExit();

    /**
     * Leaves guest mode while {@code action} runs, for guest code that must block (wait for the host,
     * sleep): a vCPU in guest mode has to keep making accesses, since a remote TLB flush waits for it to
     * notice its kick. Like a HLT exit.
     */
    void idle(Runnable action);
}
