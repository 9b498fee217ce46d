package dev.guestmem.host;

/**
 * The fields of {@code struct stat} this project reads.
 *
 * @param size      {@code st_size}, bytes
 * @param blockSize {@code st_blksize}, the preferred I/O block size
 * @param inode     {@code st_ino}
 * @param blocks    {@code st_blocks}: 512-byte units allocated (shows allocation and hole punching)
 */
public record FileStat(long size, long blockSize, long inode, long blocks) {
}
