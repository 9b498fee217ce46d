package dev.guestmem.trace;

import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The operations of the {@code .gmt} language, by keyword, with the operand synopsis used in arity
 * errors (trace-format.md). An operand in brackets is optional.
 */
public enum OpKind {
    VM("vm", "default|sw-protected"),
    MMAP("mmap", "NAME SIZE"),
    MUNMAP("munmap", "NAME"),
    MADVISE("madvise", "NAME OFF LEN dontneed|hugepage|nohugepage"),
    MPROTECT("mprotect", "NAME OFF LEN ro|rw|none"),
    HOST_WRITE("hw", "HVA VALUE"),
    HOST_READ("hr", "HVA"),
    REGION("region", "SLOT FLAGS GPA SIZE HVA"),
    REGION2("region2", "SLOT FLAGS GPA SIZE HVA GMEM OFFSET"),
    ENABLE_CAP("enable-cap", "manual-protect ARG"),
    DIRTY_LOG("dirty", "SLOT NPAGES"),
    CLEAR_LOG("clear", "SLOT FIRST NUM LIST"),
    ATTRS("attrs", "GPA SIZE ATTRS FLAGS"),
    GMEM("gmem", "NAME SIZE FLAGS"),
    GMEM_MMAP("gmem-mmap", "NAME GMEM SIZE [shared|private]"),
    FALLOCATE("fallocate", "GMEM MODE OFF LEN"),
    FSTAT("fstat", "GMEM"),
    CLOSE("close", "GMEM"),
    GUEST_WRITE("w", "GPA VALUE"),
    GUEST_READ("r", "GPA");

    private static final Map<String, OpKind> BY_KEYWORD = Arrays.stream(values())
            .collect(Collectors.toUnmodifiableMap(OpKind::keyword, Function.identity()));

    private final String keyword;
    private final String synopsis;
    private final int minOperands;
    private final int maxOperands;

    OpKind(String keyword, String synopsis) {
        this.keyword = keyword;
        this.synopsis = synopsis;
        String[] words = synopsis.split(" ");
        this.maxOperands = words.length;
        this.minOperands = (int) Arrays.stream(words).filter(w -> !w.startsWith("[")).count();
    }

    /** The keyword that starts the line ({@code "region2"}). */
    public String keyword() {
        return keyword;
    }

    /** The operands, e.g. {@code "SLOT FLAGS GPA SIZE HVA"}. */
    public String synopsis() {
        return synopsis;
    }

    /** Fewest operands the operation takes. */
    public int minOperands() {
        return minOperands;
    }

    /** Most operands the operation takes. */
    public int maxOperands() {
        return maxOperands;
    }

    /** The operation starting with {@code keyword}, if there is one. */
    public static Optional<OpKind> byKeyword(String keyword) {
        return Optional.ofNullable(BY_KEYWORD.get(keyword));
    }
}
