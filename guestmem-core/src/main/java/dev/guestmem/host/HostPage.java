package dev.guestmem.host;

import java.lang.foreign.MemorySegment;

/**
 * A host page resolved for a guest mapping (what GUP returns): the 4 KiB segment at {@code hva} and
 * whether the host page table would let the guest write it. Valid until an invalidation covering
 * {@code hva} starts.
 */
public record HostPage(long hva, MemorySegment segment, boolean writable) {
}
