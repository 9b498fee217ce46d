package dev.guestmem.host;

/** Page protection of a host mapping ({@code PROT_*} combinations this project uses). */
public enum Protection {
    NONE(0), READ(1), READ_WRITE(3);

    private final int bits;

    Protection(int bits) {
        this.bits = bits;
    }

    /** The {@code PROT_*} bits for {@code mmap}/{@code mprotect}. */
    public int bits() {
        return bits;
    }

    public boolean allowsRead() {
        return this != NONE;
    }

    public boolean allowsWrite() {
        return this == READ_WRITE;
    }
}
