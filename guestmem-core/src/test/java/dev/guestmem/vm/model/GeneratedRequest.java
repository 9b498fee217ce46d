package dev.guestmem.vm.model;

import dev.guestmem.vm.RegionRequest;
import dev.guestmem.vm.model.RegionLockstep.FdRole;

/**
 * A generated set-memory-region call whose guest_memfd field names a file by role, resolved against the
 * run's files when applied. {@code toString} is what a failing chain prints.
 */
public record GeneratedRequest(boolean v2, int slot, int flags, long gpa, long size, long hva, FdRole fd,
        long gmemOffset) {

    /** The uAPI arguments; a v1 call carries no guest_memfd fields. */
    public RegionRequest resolve(RegionLockstep state) {
        if (!v2) {
            return RegionRequest.v1(slot, flags, gpa, size, hva);
        }
        return new RegionRequest(true, slot, flags, gpa, size, hva, state.fd(fd), gmemOffset);
    }

    @Override
    public String toString() {
        String text = (v2 ? "region2" : "region") + " 0x" + Integer.toHexString(slot) + " 0x"
                + Integer.toHexString(flags) + " 0x" + Long.toHexString(gpa) + " 0x" + Long.toHexString(size)
                + " 0x" + Long.toHexString(hva);
        return v2 ? text + " " + fd + " 0x" + Long.toHexString(gmemOffset) : text;
    }
}
