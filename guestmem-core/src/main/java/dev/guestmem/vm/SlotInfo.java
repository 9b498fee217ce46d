package dev.guestmem.vm;

/** What userspace could know about a memslot, for tests and tools. */
public record SlotInfo(int asId, int id, long baseGfn, long npages, int flags, long userspaceAddr,
        long gmemPgoff) {
}
