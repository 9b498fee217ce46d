package dev.guestmem.kvm;

import dev.guestmem.Errno;

/**
 * The KVM backend cannot go on: {@code /dev/kvm} is unusable, a setup ioctl failed, or a vCPU exited in
 * a way no guest access explains. Never used for results a trace prints (those are errno values and
 * {@link dev.guestmem.vm.Access} outcomes).
 */
public class KvmException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** An exception with {@code message}. */
    public KvmException(String message) {
        super(message);
    }

    /** Returns {@code result} if it is not negative, else throws: "{@code call} failed: ENAME". */
    static int check(int result, String call) {
        if (result < 0) {
            throw new KvmException(call + " failed: " + Errno.name(-result));
        }
        return result;
    }
}
