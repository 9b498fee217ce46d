package dev.guestmem.memslot;

/**
 * Argument checks shared by both stores' {@code install}. They run before anything is edited, so a
 * rejected call leaves the store untouched. Overlap checks belong to the ioctl layer (spec §1.1), which
 * never lets two slots of one address space overlap; they are repeated here because an overlapping
 * slot would corrupt the gfn index (equal base gfns are a kernel BUG, spec §2.1).
 */
final class InstallChecks {
    /** Gfns are 64-bit gpas shifted right by the page shift, so every slot ends at or below this. */
    static final long GFN_LIMIT = 1L << (64 - KvmLimits.PAGE_SHIFT);

    private InstallChecks() {
    }

    /**
     * Validates one install against {@code active}, the set it will replace.
     *
     * @return the slot currently holding {@code id}, or {@code null}
     * @throws IllegalArgumentException if the request is malformed or would make slots overlap
     */
    static Memslot oldSlot(MemslotSet active, int id, Memslot next) {
        if (id < 0 || id >= KvmLimits.MEM_SLOTS_NUM) {
            throw new IllegalArgumentException("slot id out of range: " + id);
        }
        Memslot old = active.byId(id);
        if (next == null) {
            if (old == null) {
                throw new IllegalArgumentException("no slot " + id + " to delete in as " + active.asId());
            }
            return old;
        }
        if (next.asId() != active.asId() || next.id() != id) {
            throw new IllegalArgumentException(next + " installed as as=" + active.asId() + " id=" + id);
        }
        if (Long.compareUnsigned(next.baseGfn(), GFN_LIMIT) >= 0
                || Long.compareUnsigned(next.endGfn(), GFN_LIMIT) > 0) {
            throw new IllegalArgumentException(next + " lies beyond the 64-bit gpa space");
        }
        for (Memslot other : active.inGfnRange(next.baseGfn(), next.endGfn())) {
            if (other.id() != id) {
                throw new IllegalArgumentException(next + " overlaps " + other);
            }
        }
        return old;
    }
}
