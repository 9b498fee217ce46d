package dev.guestmem.trace;

/** What a trace NAME stands for; each defining operation makes one kind. */
public enum NameKind {
    /** A host mapping, defined by {@code mmap} or {@code gmem-mmap}; used as an HVA. */
    MAPPING("mmap or gmem-mmap"),
    /** A guest_memfd, defined by {@code gmem}; used as a GMEM operand. */
    GUEST_MEMFD("gmem");

    private final String definedBy;

    NameKind(String definedBy) {
        this.definedBy = definedBy;
    }

    /** The operations that define a name of this kind, for messages. */
    public String definedBy() {
        return definedBy;
    }
}
