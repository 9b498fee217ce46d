package dev.guestmem.gmem;

import static dev.guestmem.memslot.KvmLimits.PAGE_SIZE;

import dev.guestmem.Errno;

/**
 * The argument checks of {@code fallocate(2)} on a guest_memfd, in the kernel's order: the VFS's
 * ({@code vfs_fallocate}, Linux 6.18 form) and then {@code kvm_gmem_fallocate}'s (spec §5.2, KGM-02,
 * KGM-03). The first failing check decides the errno.
 */
public final class Fallocate {
    /** {@code FALLOC_FL_KEEP_SIZE}. */
    public static final int KEEP_SIZE = 0x01;
    /** {@code FALLOC_FL_PUNCH_HOLE}. */
    public static final int PUNCH_HOLE = 0x02;
    static final int COLLAPSE_RANGE = 0x08;
    static final int ZERO_RANGE = 0x10;
    static final int INSERT_RANGE = 0x20;
    static final int UNSHARE_RANGE = 0x40;
    static final int WRITE_ZEROES = 0x80;
    /** {@code FALLOC_FL_MODE_MASK}: the operation bits (KEEP_SIZE is a modifier, not an operation). */
    static final int MODE_MASK = PUNCH_HOLE | COLLAPSE_RANGE | ZERO_RANGE | INSERT_RANGE | UNSHARE_RANGE
            | WRITE_ZEROES;

    private Fallocate() {
    }

    /**
     * Checks {@code fallocate(fd, mode, offset, length)} up to, and including, guest_memfd's alignment
     * rule; the allocation's bound against the file size comes after (it depends on the file).
     *
     * @param offset the {@code off_t} offset (signed)
     * @param length the {@code off_t} length (signed)
     * @return 0, {@code EINVAL}, {@code EOPNOTSUPP} or {@code EFBIG}
     */
    public static int check(int mode, long offset, long length) {
        // vfs_fallocate: the range first, then the mode, then the wrap of offset + length.
        if (offset < 0 || length <= 0) {
            return Errno.EINVAL;
        }
        if ((mode & ~(MODE_MASK | KEEP_SIZE)) != 0) {
            return Errno.EOPNOTSUPP;
        }
        int vfsMode = vfsModeCheck(mode);
        if (vfsMode != 0) {
            return vfsMode;
        }
        if (offset + length < 0) {
            return Errno.EFBIG; // check_add_overflow on loff_t
        }
        // kvm_gmem_fallocate: allocation and hole punching only, always keeping the size.
        if ((mode & KEEP_SIZE) == 0 || (mode & ~(KEEP_SIZE | PUNCH_HOLE)) != 0) {
            return Errno.EOPNOTSUPP;
        }
        if ((offset & (PAGE_SIZE - 1)) != 0 || (length & (PAGE_SIZE - 1)) != 0) {
            return Errno.EINVAL;
        }
        return 0;
    }

    /** Whether a checked mode punches a hole (else it allocates). */
    public static boolean punchesHole(int mode) {
        return (mode & PUNCH_HOLE) != 0;
    }

    /**
     * The VFS's per-operation rule: punching needs KEEP_SIZE, the operations that move or grow data
     * refuse it, and only one operation at a time (trace 07: {@code KEEP_SIZE|COLLAPSE_RANGE} is
     * {@code EOPNOTSUPP} on 6.18, where older kernels said {@code EINVAL}).
     */
    private static int vfsModeCheck(int mode) {
        boolean keepSize = (mode & KEEP_SIZE) != 0;
        return switch (mode & MODE_MASK) {
            case 0, UNSHARE_RANGE, ZERO_RANGE -> 0;
            case PUNCH_HOLE -> keepSize ? 0 : Errno.EOPNOTSUPP;
            case COLLAPSE_RANGE, INSERT_RANGE, WRITE_ZEROES -> keepSize ? Errno.EOPNOTSUPP : 0;
            default -> Errno.EOPNOTSUPP;
        };
    }
}
