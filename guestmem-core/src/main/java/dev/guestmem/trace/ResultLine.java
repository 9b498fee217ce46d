package dev.guestmem.trace;

import dev.guestmem.Errno;
import dev.guestmem.vm.Access;
import java.util.BitSet;
import java.util.stream.Collectors;

/** Formats the one result line each operation prints (trace-format.md, "Results"). */
public final class ResultLine {
    private static final String OK = "ok";

    private ResultLine() {
    }

    /** {@code ok}: success. */
    public static String ok() {
        return OK;
    }

    /** {@code err ENAME} for a positive Linux errno. */
    public static String err(int errno) {
        if (errno <= 0) {
            throw new IllegalArgumentException("not an errno: " + errno);
        }
        return "err " + Errno.name(errno);
    }

    /** {@code ok} for 0, else {@code err ENAME}: the result of a call returning 0 or an errno. */
    public static String status(int errnoOrZero) {
        return errnoOrZero == 0 ? ok() : err(errnoOrZero);
    }

    /** {@code val 0x<hex>}: lowercase, no leading zeros, the value as unsigned 64-bit. */
    public static String val(long value) {
        return "val 0x" + Long.toHexString(value);
    }

    /** {@code bits LIST}: ascending page indexes, comma separated, or {@code bits -} when none. */
    public static String bits(BitSet pages) {
        if (pages.isEmpty()) {
            return "bits -";
        }
        return pages.stream().mapToObj(Integer::toString).collect(Collectors.joining(",", "bits ", ""));
    }

    /**
     * {@code bits LIST} from a dirty bitmap laid out as KVM does: page {@code i} is bit {@code i % 64}
     * of word {@code i / 64} (spec §4.1).
     */
    public static String bits(long[] bitmapWords) {
        return bits(BitSet.valueOf(bitmapWords));
    }

    /** {@code size N}: a file size in bytes, as unsigned decimal. */
    public static String size(long bytes) {
        return "size " + Long.toUnsignedString(bytes);
    }

    /** {@code mmio}. */
    public static String mmio() {
        return "mmio";
    }

    /** {@code efault}. */
    public static String efault() {
        return "efault";
    }

    /** {@code memfault private} or {@code memfault shared}. */
    public static String memfault(boolean isPrivate) {
        return isPrivate ? "memfault private" : "memfault shared";
    }

    /** The line for a guest access outcome. */
    public static String access(Access access) {
        return switch (access) {
            case Access.Value v -> val(v.value());
            case Access.Stored s -> ok();
            case Access.Mmio m -> mmio();
            case Access.Efault e -> efault();
            case Access.MemoryFault f -> memfault(f.isPrivate());
            // No trace operation enables dirty rings, so no trace access can exit this way.
            case Access.RingFull r -> throw new IllegalStateException("a trace access exited with a full dirty ring");
        };
    }
}
