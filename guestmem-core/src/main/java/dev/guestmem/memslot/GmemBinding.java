package dev.guestmem.memslot;

/**
 * A memslot's view of its guest_memfd: the file and the page offset of the slot's first page in it
 * ({@code slot->gmem}). The file reference is cleared when the file is released (spec §5.2), so it is
 * the one mutable part of a published slot.
 */
public final class GmemBinding {
    private final long pgoff;
    private volatile Object file;

    public GmemBinding(Object file, long pgoff) {
        this.file = file;
        this.pgoff = pgoff;
    }

    /** The bound file, or {@code null} once it has been released. */
    public Object file() {
        return file;
    }

    /** Page index of the slot's first page inside the file. */
    public long pgoff() {
        return pgoff;
    }

    /** Forgets the file (its last reference was closed). */
    public void clearFile() {
        file = null;
    }
}
