package dev.guestmem.fuzz;

import java.util.Objects;

/**
 * A {@code region}/{@code region2} request that the argument checks (spec §1.1 steps 2-13) let through,
 * as {@link PossibleSlots} applies it.
 *
 * @param slot the slot id, in address space 0 (the reference kernel's argument checks refuse any other)
 * @param flags the request's flags
 * @param gpa the guest-physical address, page aligned
 * @param size the size in bytes, whole pages; 0 deletes the slot
 * @param hva the host address, as far as it can be known without replaying
 * @param gmemMayBind whether binding a guest_memfd (flag {@code GUEST_MEMFD}) may succeed: never for a raw
 *     fd, which is never open (rule RAW_FDS_NEVER_OPEN)
 */
record SlotRequest(int slot, int flags, long gpa, long size, HvaKey hva, boolean gmemMayBind) {
    SlotRequest {
        Objects.requireNonNull(hva, "hva");
    }
}
