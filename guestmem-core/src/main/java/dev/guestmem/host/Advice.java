package dev.guestmem.host;

/** {@code madvise} advice values this project uses. */
public enum Advice {
    /** {@code MADV_DONTNEED}: drop the pages; anonymous memory reads back as zeros. */
    DONTNEED(4),
    /** {@code MADV_HUGEPAGE}: allow transparent huge pages (the MMU may then map 2 MiB). */
    HUGEPAGE(14),
    /** {@code MADV_NOHUGEPAGE}. */
    NOHUGEPAGE(15),
    /**
     * {@code MADV_COLLAPSE}: collapse every whole 2 MiB-aligned block of the range into a transparent huge
     * page now; the data is kept.
     */
    COLLAPSE(25);

    private final int value;

    Advice(int value) {
        this.value = value;
    }

    /** The {@code MADV_*} number. */
    public int value() {
        return value;
    }
}
