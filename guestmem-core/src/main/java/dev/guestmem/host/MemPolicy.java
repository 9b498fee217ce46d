package dev.guestmem.host;

/**
 * A NUMA memory policy of a range of mappings ({@code mbind(2)}, {@code get_mempolicy(2)}).
 *
 * @param mode  {@code MPOL_*}: {@link #DEFAULT}, {@link #PREFERRED}, {@link #BIND}, {@link #INTERLEAVE}, or
 *              any other number, which the kernel refuses
 * @param nodes the node mask, bit {@code n} for node {@code n} (nodes 0..63)
 */
public record MemPolicy(int mode, long nodes) {
    /** {@code MPOL_DEFAULT}: the process policy (node-local allocation); takes no nodes. */
    public static final int DEFAULT = 0;
    /** {@code MPOL_PREFERRED}. */
    public static final int PREFERRED = 1;
    /** {@code MPOL_BIND}: only the given nodes. */
    public static final int BIND = 2;
    /** {@code MPOL_INTERLEAVE}: page by page over the given nodes. */
    public static final int INTERLEAVE = 3;

    /** The default policy. */
    public static MemPolicy defaultPolicy() {
        return new MemPolicy(DEFAULT, 0);
    }
}
