package dev.guestmem.vm;

/**
 * The arguments of {@code KVM_SET_USER_MEMORY_REGION} ({@code v2 == false}) or
 * {@code KVM_SET_USER_MEMORY_REGION2}. {@code slot} is the u32 slot word (as_id &lt;&lt; 16 | id); every
 * 64-bit field is unsigned.
 */
public record RegionRequest(boolean v2, int slot, int flags, long guestPhysAddr, long memorySize,
        long userspaceAddr, int guestMemfd, long guestMemfdOffset) {

    /** A v1 request (no guest_memfd fields). */
    public static RegionRequest v1(int slot, int flags, long gpa, long size, long hva) {
        return new RegionRequest(false, slot, flags, gpa, size, hva, -1, 0);
    }

    /** The address-space id, {@code slot >> 16}. */
    public int asId() {
        return slot >>> 16;
    }

    /** The slot id within its address space, {@code slot & 0xFFFF}. */
    public int id() {
        return slot & 0xFFFF;
    }
}
