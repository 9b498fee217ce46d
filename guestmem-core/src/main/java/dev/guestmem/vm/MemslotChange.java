package dev.guestmem.vm;

/** {@code enum kvm_mr_change}: what a successful set-memory-region call does (spec §1.2). */
public enum MemslotChange {
    CREATE, DELETE, MOVE, FLAGS_ONLY;

    /** DELETE and MOVE first publish an INVALID copy of the old slot (spec §2.6). */
    public boolean needsInvalidStep() {
        return this == DELETE || this == MOVE;
    }
}
