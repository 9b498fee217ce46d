package dev.guestmem.fuzz;

import dev.guestmem.memslot.KvmLimits;
import dev.guestmem.memslot.MemslotFlags;
import dev.guestmem.trace.HvaOperand;

/**
 * The argument checks of {@code KVM_SET_USER_MEMORY_REGION(2)} that fail before the kernel looks at any
 * memslot or memory (spec §1.1 steps 2-13), as the reference kernel runs them (v6.18, default VM type,
 * one address space). A request they refuse touches nothing, so the rules about where its memory lies
 * do not apply to it: the generator uses this to write deliberately bad lines, the checker to let them
 * through.
 */
final class ArgumentChecks {
    private static final long PAGE_MASK = KvmLimits.PAGE_SIZE - 1;
    private static final int SLOT_ID_MASK = 0xFFFF;

    private ArgumentChecks() {
    }

    /**
     * Whether steps 2, 3, 5, 7, 8, 11 (address space), 12 or 13 refuse the request: flags, slot id, size
     * and gpa alignment, gpa wrap-around, page count. The hva is checked by {@link #hvaRefused}.
     */
    static boolean refused(boolean v1, int slot, int flags, long gpa, long size) {
        return (v1 && (flags & ~MemslotFlags.V1_FLAGS) != 0)
                || (slot & SLOT_ID_MASK) >= KvmLimits.USER_MEM_SLOTS
                || !validFlags(flags)
                || (size & PAGE_MASK) != 0
                || (gpa & PAGE_MASK) != 0
                || slot >>> 16 != 0 // the reference kernel has one address space (kvm-backend.md)
                || Long.compareUnsigned(gpa + size, gpa) < 0
                || Long.compareUnsigned(size >>> KvmLimits.PAGE_SHIFT, KvmLimits.MEM_MAX_NR_PAGES) > 0;
    }

    /** Step 5 for a default VM on v6.18: GUEST_MEMFD excludes dirty logging and read-only. */
    private static boolean validFlags(int flags) {
        int valid = (flags & MemslotFlags.GUEST_MEMFD) != 0
                ? MemslotFlags.GUEST_MEMFD
                : MemslotFlags.LOG_DIRTY_PAGES | MemslotFlags.READONLY | MemslotFlags.GUEST_MEMFD;
        return (flags & ~valid) == 0;
    }

    /**
     * Whether step 9 refuses the raw hva {@code hva} for {@code size} bytes: not page aligned, or the range
     * is not entirely in the user address space ({@code access_ok}).
     */
    static boolean hvaRefused(long hva, long size) {
        return (hva & PAGE_MASK) != 0
                || Long.compareUnsigned(size, KvmLimits.TASK_SIZE_MAX) > 0
                || Long.compareUnsigned(hva, KvmLimits.TASK_SIZE_MAX - size) > 0;
    }

    /** Whether step 9 refuses {@code NAME+offset}: mappings start on a page, so only the offset can. */
    static boolean namedHvaRefused(long offset) {
        return (offset & PAGE_MASK) != 0;
    }

    /** Whether the argument checks refuse the whole request, hva included. */
    static boolean refused(boolean v1, int slot, int flags, long gpa, long size, HvaOperand hva) {
        return refused(v1, slot, flags, gpa, size) || switch (hva) {
            case HvaOperand.Named n -> namedHvaRefused(n.offset());
            case HvaOperand.Address a -> hvaRefused(a.value(), size);
        };
    }
}
