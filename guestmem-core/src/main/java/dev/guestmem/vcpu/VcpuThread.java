package dev.guestmem.vcpu;

import dev.guestmem.vm.Vcpu;
import java.time.Duration;
import java.util.Objects;

/**
 * A platform thread that drives one vCPU through guest code ({@link Vcpu#run}), like a VMM's vCPU
 * thread looping on {@code KVM_RUN}. {@link #join} rethrows whatever the guest code threw.
 */
public final class VcpuThread {
    private final Thread thread;
    private volatile Throwable failure;

    private VcpuThread(Vcpu vcpu, GuestCode code) {
        Objects.requireNonNull(vcpu, "vcpu");
        Objects.requireNonNull(code, "code");
        this.thread = Thread.ofPlatform().name("vcpu-" + vcpu.id()).daemon().unstarted(() -> {
            try {
                vcpu.run(code);
            } catch (Throwable t) {
                failure = t;
            }
        });
    }

    /** Starts a thread running {@code code} on {@code vcpu}. */
    public static VcpuThread start(Vcpu vcpu, GuestCode code) {
        VcpuThread t = new VcpuThread(vcpu, code);
        t.thread.start();
        return t;
    }

    /** Whether the guest code is still running. */
    public boolean isAlive() {
        return thread.isAlive();
    }

    /**
     * Waits for the guest code to return.
     *
     * @throws IllegalStateException if it did not return within {@code timeout}
     * @throws RuntimeException      (or Error) what the guest code threw, as the cause of a
     *                               {@link VcpuFailure}
     */
    public void join(Duration timeout) throws InterruptedException {
        if (!thread.join(timeout)) {
            throw new IllegalStateException(thread.getName() + " did not finish within " + timeout);
        }
        Throwable t = failure;
        if (t != null) {
            throw new VcpuFailure(thread.getName() + " failed", t);
        }
    }

    /** What the guest code of a {@link VcpuThread} threw. */
    public static final class VcpuFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        VcpuFailure(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
