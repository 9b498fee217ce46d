package dev.guestmem;

/** Linux x86-64 errno values used by the KVM memory API, and their names. */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int ENXIO = 6;
    public static final int E2BIG = 7;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EFAULT = 14;
    public static final int EEXIST = 17;
    public static final int ENODEV = 19;
    public static final int EINVAL = 22;
    public static final int EFBIG = 27;
    public static final int ESPIPE = 29;
    public static final int EOPNOTSUPP = 95;
    public static final int EHWPOISON = 133;

    private Errno() {
    }

    /** The symbolic name of {@code errno} ({@code "EINVAL"}), or {@code "E<number>"} when unknown. */
    public static String name(int errno) {
        return switch (errno) {
            case EPERM -> "EPERM";
            case ENOENT -> "ENOENT";
            case EINTR -> "EINTR";
            case EIO -> "EIO";
            case ENXIO -> "ENXIO";
            case E2BIG -> "E2BIG";
            case EBADF -> "EBADF";
            case EAGAIN -> "EAGAIN";
            case ENOMEM -> "ENOMEM";
            case EFAULT -> "EFAULT";
            case EEXIST -> "EEXIST";
            case ENODEV -> "ENODEV";
            case EINVAL -> "EINVAL";
            case EFBIG -> "EFBIG";
            case ESPIPE -> "ESPIPE";
            case EOPNOTSUPP -> "EOPNOTSUPP";
            case EHWPOISON -> "EHWPOISON";
            default -> "E" + errno;
        };
    }
}
