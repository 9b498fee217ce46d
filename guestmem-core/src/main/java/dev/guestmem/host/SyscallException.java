package dev.guestmem.host;

import dev.guestmem.Errno;

/** A system call failed with {@link #errno()} where the caller has no errno return value to pass it on. */
public final class SyscallException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int errno;

    public SyscallException(String call, int errno) {
        super(call + " failed: " + Errno.name(errno), null, false, false);
        this.errno = errno;
    }

    /** The positive Linux errno. */
    public int errno() {
        return errno;
    }
}
