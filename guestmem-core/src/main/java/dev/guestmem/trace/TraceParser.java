package dev.guestmem.trace;

import dev.guestmem.host.Advice;
import dev.guestmem.host.Protection;
import dev.guestmem.memslot.KvmLimits;
import dev.guestmem.vm.Capability;
import dev.guestmem.vm.VmType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Reads a {@code .gmt} trace (trace-format.md) into {@link TraceOp}s. The whole file is parsed before
 * anything runs, so a malformed line stops a trace before its first operation.
 *
 * <p>Names are checked twice. Here, a NAME must be defined, as the right kind, by an <em>earlier
 * line</em> ({@code mmap}/{@code gmem-mmap} define mappings, {@code gmem} defines guest_memfds): that
 * catches typos up front. At replay time ({@link ReplayNames}) a NAME is defined only once its defining
 * operation has <em>succeeded</em>; using a name whose {@code mmap} failed is a usage error then. Both
 * errors name the line of the use. Redefining a name rebinds it.
 */
public final class TraceParser {
    private static final Map<String, VmType> VM_TYPES = Map.of(
            "default", VmType.DEFAULT,
            "sw-protected", VmType.SW_PROTECTED);
    private static final Map<String, Advice> ADVICE = Map.of(
            "dontneed", Advice.DONTNEED,
            "hugepage", Advice.HUGEPAGE,
            "nohugepage", Advice.NOHUGEPAGE);
    private static final Map<String, Protection> PROTECTION = Map.of(
            "ro", Protection.READ,
            "rw", Protection.READ_WRITE,
            "none", Protection.NONE);
    private static final Map<String, Boolean> SHARING = Map.of("shared", true, "private", false);
    private static final Map<String, Integer> CAPABILITIES = Map.of(
            "manual-protect", Capability.MANUAL_DIRTY_LOG_PROTECT2);
    /** Bits per word of a dirty bitmap: {@code clear} reads whole 64-bit words (spec §4.4). */
    private static final long BITMAP_WORD_BITS = 64;

    private final String file;
    private final DeclaredNames names = new DeclaredNames();
    private final List<TraceOp> ops = new ArrayList<>();
    private final List<TraceComment> comments = new ArrayList<>();
    private VmType vmType = VmType.DEFAULT;

    private TraceParser(String file) {
        this.file = file;
    }

    /** Parses {@code text}; {@code file} is the name diagnostics use. */
    public static Trace parse(String file, String text) {
        TraceParser parser = new TraceParser(file);
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            parser.line(i + 1, lines[i]);
        }
        return new Trace(file, parser.vmType, parser.ops, parser.comments);
    }

    /** Reads and parses the trace at {@code path}; diagnostics name it as {@code path.toString()}. */
    public static Trace parse(Path path) throws IOException {
        return parse(path.toString(), Files.readString(path, StandardCharsets.UTF_8));
    }

    private void line(int number, String raw) {
        String line = raw.endsWith("\r") ? raw.substring(0, raw.length() - 1) : raw;
        int hash = line.indexOf('#');
        String code = hash < 0 ? line : line.substring(0, hash);
        String trimmed = code.strip();
        String[] tokens = trimmed.isEmpty() ? new String[0] : trimmed.split("[ \t]+");
        if (tokens.length == 0) {
            if (hash >= 0) {
                comments.add(new TraceComment(number, line.substring(hash + 1).strip()));
            }
            return;
        }
        SourceLine source = new SourceLine(file, number, String.join(" ", tokens));
        OpKind kind = OpKind.byKeyword(tokens[0])
                .orElseThrow(() -> new TraceUsageException(source, "unknown operation '" + tokens[0] + "'"));
        Operands operands = Operands.of(source, kind, Arrays.asList(tokens).subList(1, tokens.length), names);
        ops.add(build(kind, operands));
    }

    private TraceOp build(OpKind kind, Operands o) {
        SourceLine src = o.source();
        return switch (kind) {
            case VM -> vmLine(o);
            case MMAP -> define(new TraceOp.Mmap(src, o.newName(0, "NAME"), o.u64(1, "SIZE")), NameKind.MAPPING);
            case MUNMAP -> new TraceOp.Munmap(src, o.usedName(0, "NAME", NameKind.MAPPING));
            case MADVISE -> new TraceOp.Madvise(src, o.usedName(0, "NAME", NameKind.MAPPING), o.u64(1, "OFF"),
                    o.u64(2, "LEN"), o.choice(3, "advice", ADVICE));
            case MPROTECT -> new TraceOp.Mprotect(src, o.usedName(0, "NAME", NameKind.MAPPING), o.u64(1, "OFF"),
                    o.u64(2, "LEN"), o.choice(3, "protection", PROTECTION));
            case HOST_WRITE -> new TraceOp.HostWrite(src, o.hva(0), o.u64(1, "VALUE"));
            case HOST_READ -> new TraceOp.HostRead(src, o.hva(0));
            case REGION -> new TraceOp.Region(src, o.u32(0, "SLOT"), o.u32(1, "FLAGS"), o.u64(2, "GPA"),
                    o.u64(3, "SIZE"), o.hva(4));
            case REGION2 -> new TraceOp.Region2(src, o.u32(0, "SLOT"), o.u32(1, "FLAGS"), o.u64(2, "GPA"),
                    o.u64(3, "SIZE"), o.hva(4), o.gmem(5), o.u64(6, "OFFSET"));
            case ENABLE_CAP -> new TraceOp.EnableCap(src, o.choice(0, "capability", CAPABILITIES), o.u64(1, "ARG"));
            case DIRTY_LOG -> new TraceOp.DirtyLog(src, o.u32(0, "SLOT"),
                    (int) o.atMost(1, "NPAGES", KvmLimits.MEM_MAX_NR_PAGES, "exceeds KVM_MEM_MAX_NR_PAGES"));
            case CLEAR_LOG -> clearLog(o);
            case ATTRS -> new TraceOp.Attrs(src, o.u64(0, "GPA"), o.u64(1, "SIZE"), o.u64(2, "ATTRS"),
                    o.u64(3, "FLAGS"));
            case GMEM -> define(new TraceOp.Gmem(src, o.newName(0, "NAME"), o.u64(1, "SIZE"), o.u64(2, "FLAGS")),
                    NameKind.GUEST_MEMFD);
            case GMEM_MMAP -> define(new TraceOp.GmemMmap(src, o.newName(0, "NAME"), o.gmem(1), o.u64(2, "SIZE"),
                    o.count() < 4 || o.choice(3, "sharing", SHARING)), NameKind.MAPPING);
            case FALLOCATE -> new TraceOp.Fallocate(src, o.gmem(0), o.u32(1, "MODE"), o.u64(2, "OFF"),
                    o.u64(3, "LEN"));
            case FSTAT -> new TraceOp.Fstat(src, o.gmem(0));
            case CLOSE -> new TraceOp.Close(src, o.gmem(0));
            case GUEST_WRITE -> new TraceOp.GuestWrite(src, alignedGpa(o), o.u64(1, "VALUE"));
            case GUEST_READ -> new TraceOp.GuestRead(src, alignedGpa(o));
        };
    }

    /** Makes the NAME that {@code op}'s first operand gives usable from the next line on. */
    private TraceOp define(TraceOp op, NameKind kind) {
        String name = switch (op) {
            case TraceOp.Mmap m -> m.name();
            case TraceOp.Gmem g -> g.name();
            case TraceOp.GmemMmap g -> g.name();
            default -> throw new IllegalArgumentException("does not define a name: " + op);
        };
        names.declare(name, kind);
        return op;
    }

    private TraceOp vmLine(Operands o) {
        if (!ops.isEmpty()) {
            throw o.error("vm must be the first operation of the trace (the VM is created before the first line)");
        }
        vmType = o.choice(0, "VM type", VM_TYPES);
        return new TraceOp.VmLine(o.source(), vmType);
    }

    /** The reference runner's guest code does aligned 64-bit accesses only (trace-format.md, vCPU ops). */
    private static long alignedGpa(Operands o) {
        long gpa = o.u64(0, "GPA");
        if ((gpa & 7) != 0) {
            throw o.error("GPA " + o.word(0) + " is not 8-byte aligned (vCPU accesses are aligned 64-bit words)");
        }
        return gpa;
    }

    private TraceOp clearLog(Operands o) {
        int slot = o.u32(0, "SLOT");
        long first = o.u64(1, "FIRST");
        int num = o.u32(2, "NUM");
        String list = o.word(3);
        ClearPages pages = switch (list) {
            case "all" -> new ClearPages.All();
            case "-" -> new ClearPages.None();
            default -> listedPages(o, list, first, num);
        };
        return new TraceOp.ClearLog(o.source(), slot, first, num, pages);
    }

    /** Explicit page indexes; each must lie in the bitmap the caller passes (whole 64-bit words). */
    private static ClearPages listedPages(Operands o, String list, long first, int num) {
        long bitmapBits = Long.divideUnsigned(Integer.toUnsignedLong(num) + BITMAP_WORD_BITS - 1, BITMAP_WORD_BITS)
                * BITMAP_WORD_BITS;
        TreeSet<Long> pages = new TreeSet<>(Long::compareUnsigned);
        for (String item : list.split(",", -1)) {
            if (item.isEmpty()) {
                throw o.error("bad LIST '" + list + "': expected all, - or comma-separated page indexes");
            }
            long page = o.number(item, "LIST page");
            if (Long.compareUnsigned(page, first) < 0 || Long.compareUnsigned(page - first, bitmapBits) >= 0) {
                throw o.error("LIST page " + item + " is outside the bitmap passed for FIRST " + o.word(1) + " NUM "
                        + o.word(2) + " (" + bitmapBits + " bits from page " + Long.toUnsignedString(first) + ")");
            }
            pages.add(page);
        }
        return new ClearPages.Listed(List.copyOf(pages));
    }
}
