package dev.guestmem.kvm;

import static dev.guestmem.memslot.KvmLimits.PAGE_SHIFT;

import dev.guestmem.vm.SlotInfo;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The memslots as userspace last set them. KVM has no ioctl that reads a memslot back, so the backend
 * keeps this mirror of every {@code KVM_SET_USER_MEMORY_REGION(2)} the kernel accepted: a successful
 * call with size 0 deleted the slot, any other created, moved or re-flagged it to exactly the requested
 * values (the kernel accepts a change of an existing slot only when hva and size are unchanged, so the
 * request describes the new slot completely). Failed calls change nothing, as in the kernel.
 * Thread-safe.
 */
final class SlotMirror {
    private final Map<Integer, SlotInfo> slots = new HashMap<>();

    /** Records a call the kernel accepted; {@code slot} is the u32 word (as_id &lt;&lt; 16 | id). */
    synchronized void accepted(int slot, int flags, long guestPhysAddr, long memorySize, long userspaceAddr,
            long guestMemfdOffset) {
        if (memorySize == 0) {
            slots.remove(slot);
            return;
        }
        slots.put(slot, new SlotInfo(slot >>> 16, slot & 0xFFFF, guestPhysAddr >>> PAGE_SHIFT,
                memorySize >>> PAGE_SHIFT, flags, userspaceAddr, guestMemfdOffset >>> PAGE_SHIFT));
    }

    /** The slot as last accepted, if it exists. */
    synchronized Optional<SlotInfo> get(int slot) {
        return Optional.ofNullable(slots.get(slot));
    }
}
