package dev.guestmem.host;

/**
 * A host access that the real process would take a signal for: no live mapping covers the address, the
 * mapping's protection forbids the access, or a file mapping's file has no page there. Thrown instead of
 * touching the memory, so a bad address never crashes the JVM. Carries no stack trace: it is an expected
 * outcome, not a bug.
 */
public final class HostFault extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** What went wrong. */
    public enum Kind {
        /** No live mapping covers the address (SIGSEGV, MAPERR). */
        UNMAPPED,
        /** The mapping forbids this access (SIGSEGV, ACCERR). */
        PROTECTION,
        /**
         * A shared file mapping whose file has no page here: past its end, or memory it refuses to
         * host-fault, such as private guest_memfd memory (SIGBUS).
         */
        BUS
    }

    private final long hva;
    private final Kind kind;

    public HostFault(long hva, Kind kind) {
        super(kind + " at hva 0x" + Long.toHexString(hva), null, false, false);
        this.hva = hva;
        this.kind = kind;
    }

    public long hva() {
        return hva;
    }

    public Kind kind() {
        return kind;
    }
}
