package dev.guestmem.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.host.Advice;
import dev.guestmem.host.Protection;
import dev.guestmem.vm.Capability;
import dev.guestmem.vm.VmType;
import java.util.List;
import org.junit.jupiter.api.Test;

class TraceParserTest {
    private static final String FILE = "t.gmt";

    private static Trace parse(String text) {
        return TraceParser.parse(FILE, text);
    }

    /** The last operation of {@code text}, which may define names on earlier lines. */
    private static TraceOp last(String text) {
        List<TraceOp> ops = parse(text).ops();
        return ops.get(ops.size() - 1);
    }

    private static SourceLine at(int line, String text) {
        return new SourceLine(FILE, line, text);
    }

    @Test
    void hostOperations() {
        String defs = "mmap a 0x200000\n";
        assertEquals(new TraceOp.Mmap(at(1, "mmap a 0x200000"), "a", 0x200000), last(defs));
        assertEquals(new TraceOp.Munmap(at(2, "munmap a"), "a"), last(defs + "munmap a"));
        assertEquals(new TraceOp.Madvise(at(2, "madvise a 0x1000 4096 dontneed"), "a", 0x1000, 4096,
                Advice.DONTNEED), last(defs + "madvise a 0x1000 4096 dontneed"));
        assertEquals(Advice.HUGEPAGE, ((TraceOp.Madvise) last(defs + "madvise a 0 1 hugepage")).advice());
        assertEquals(new TraceOp.Mprotect(at(2, "mprotect a 0 0x10000 ro"), "a", 0, 0x10000, Protection.READ),
                last(defs + "mprotect a 0 0x10000 ro"));
        assertEquals(Protection.READ_WRITE, ((TraceOp.Mprotect) last(defs + "mprotect a 0 1 rw")).protection());
        assertEquals(Protection.NONE, ((TraceOp.Mprotect) last(defs + "mprotect a 0 1 none")).protection());
        assertEquals(new TraceOp.HostWrite(at(2, "hw a+0x1000 0x77"), new HvaOperand.Named("a", 0x1000), 0x77),
                last(defs + "hw a+0x1000 0x77"));
        assertEquals(new TraceOp.HostRead(at(2, "hr a"), new HvaOperand.Named("a", 0)), last(defs + "hr a"));
        assertEquals(new TraceOp.HostRead(at(1, "hr 0x7fffffffe000"), new HvaOperand.Address(0x7fffffffe000L)),
                last("hr 0x7fffffffe000"));
    }

    @Test
    void memslotOperations() {
        assertEquals(new TraceOp.Region(at(2, "region 1 0 0xC0000000 0x200000 a"), 1, 0, 0xC0000000L, 0x200000,
                new HvaOperand.Named("a", 0)), last("mmap a 0x200000\nregion 1 0 0xC0000000 0x200000 a"));
        TraceOp.Region big = (TraceOp.Region) last("region 0xffffffff 0xffffffff 0xfffffffffffff000 0x2000 0");
        assertEquals(-1, big.slot());
        assertEquals(-1, big.flags());
        assertEquals(0xfffffffffffff000L, big.guestPhysAddr());
        assertEquals(new HvaOperand.Address(0), big.hva());
        assertEquals(new TraceOp.Region2(at(1, "region2 2 0 0x40000000 0 0 -1 0"), 2, 0, 0x40000000L, 0,
                new HvaOperand.Address(0), new GmemOperand.Fd(-1), 0), last("region2 2 0 0x40000000 0 0 -1 0"));
        TraceOp.Region2 named = (TraceOp.Region2) last("gmem s 0x4000 3\nregion2 1 4 0x100000000 0x2000 0 s 0x1000");
        assertEquals(new GmemOperand.Named("s"), named.gmem());
        assertEquals(0x1000, named.gmemOffset());
        assertEquals(new GmemOperand.Fd(999), ((TraceOp.Region2) last("region2 3 4 0 0x1000 0 999 0")).gmem());
        assertEquals(new GmemOperand.Fd(-1), ((TraceOp.Region2) last("region2 3 4 0 0x1000 0 0xffffffff 0")).gmem());
    }

    @Test
    void dirtyLogOperations() {
        assertEquals(new TraceOp.EnableCap(at(1, "enable-cap manual-protect 3"),
                Capability.MANUAL_DIRTY_LOG_PROTECT2, 3), last("enable-cap manual-protect 3"));
        assertEquals(new TraceOp.DirtyLog(at(1, "dirty 40000 256"), 40000, 256), last("dirty 40000 256"));
        assertEquals(new TraceOp.ClearLog(at(1, "clear 7 0 128 all"), 7, 0, 128, new ClearPages.All()),
                last("clear 7 0 128 all"));
        assertEquals(new ClearPages.None(), ((TraceOp.ClearLog) last("clear 7 128 68 -")).pages());
        assertEquals(new ClearPages.Listed(List.of(130L, 195L)),
                ((TraceOp.ClearLog) last("clear 7 128 68 195,130,195")).pages());
        // The caller's bitmap is whole 64-bit words: bits past NUM in the last word can be passed.
        assertEquals(new ClearPages.Listed(List.of(191L)), ((TraceOp.ClearLog) last("clear 7 128 1 191")).pages());
    }

    @Test
    void guestMemfdAndAttributeOperations() {
        assertEquals(new TraceOp.Attrs(at(1, "attrs 0x1000 0x2000 8 0"), 0x1000, 0x2000, 8, 0),
                last("attrs 0x1000 0x2000 8 0"));
        assertEquals(new TraceOp.Gmem(at(1, "gmem g 0x4000 0"), "g", 0x4000, 0), last("gmem g 0x4000 0"));
        String g = "gmem g 0x4000 1\n";
        assertEquals(new TraceOp.GmemMmap(at(2, "gmem-mmap m g 0x4000"), "m", new GmemOperand.Named("g"), 0x4000,
                true), last(g + "gmem-mmap m g 0x4000"));
        assertEquals(false, ((TraceOp.GmemMmap) last(g + "gmem-mmap m g 0x4000 private")).shared());
        assertEquals(true, ((TraceOp.GmemMmap) last(g + "gmem-mmap m g 0x4000 shared")).shared());
        assertEquals(new TraceOp.Fallocate(at(2, "fallocate g 3 0xfff 0x1000"), new GmemOperand.Named("g"), 3,
                0xfff, 0x1000), last(g + "fallocate g 3 0xfff 0x1000"));
        assertEquals(new TraceOp.Fstat(at(2, "fstat g"), new GmemOperand.Named("g")), last(g + "fstat g"));
        assertEquals(new TraceOp.Close(at(1, "close 7"), new GmemOperand.Fd(7)), last("close 7"));
        // A gmem-mmap name is a host mapping: usable as an HVA.
        assertEquals(new HvaOperand.Named("m", 8),
                ((TraceOp.HostRead) last(g + "gmem-mmap m g 0x4000\nhr m+8")).hva());
    }

    @Test
    void vcpuOperations() {
        assertEquals(new TraceOp.GuestWrite(at(1, "w 0xC0000000 0x1122"), 0xC0000000L, 0x1122),
                last("w 0xC0000000 0x1122"));
        assertEquals(new TraceOp.GuestRead(at(1, "r 0xd0000000"), 0xD0000000L), last("r 0xd0000000"));
    }

    @Test
    void vmLineChoosesTheVmTypeAndIsKeptAsFirstOperation() {
        Trace trace = parse("# header\n\nvm sw-protected\nr 0");
        assertEquals(VmType.SW_PROTECTED, trace.vmType());
        assertEquals(new TraceOp.VmLine(at(3, "vm sw-protected"), VmType.SW_PROTECTED), trace.ops().get(0));
        assertEquals(VmType.DEFAULT, parse("r 0").vmType());
        assertEquals(VmType.DEFAULT, parse("vm default").vmType());
    }

    @Test
    void numbersAreUnsigned64BitDecimalOrHex() {
        assertEquals(-1L, ((TraceOp.GuestWrite) last("w 0 0xffffffffffffffff")).value());
        assertEquals(-1L, ((TraceOp.GuestWrite) last("w 0 18446744073709551615")).value());
        assertEquals(0xABCL, ((TraceOp.GuestWrite) last("w 0 0XaBc")).value());
        assertEquals(10L, ((TraceOp.GuestWrite) last("w 0 010")).value(), "leading zeros are not octal");
        assertEquals(1L, ((TraceOp.GuestWrite) last("w 0 0x00000000000000000001")).value());
    }

    @Test
    void commentsBlankLinesAndWhitespace() {
        Trace trace = parse("# first\n\n  \t\nmmap\ta \t 0x1000   # inline\r\n   # second  \nhr a#glued\n");
        assertEquals(List.of(new TraceComment(1, "first"), new TraceComment(5, "second")), trace.comments());
        assertEquals(List.of(new TraceOp.Mmap(at(4, "mmap a 0x1000"), "a", 0x1000),
                new TraceOp.HostRead(at(6, "hr a"), new HvaOperand.Named("a", 0))), trace.ops());
        assertTrue(parse("").ops().isEmpty());
    }

    @Test
    void namesMayBeRedefined() {
        Trace trace = parse("mmap a 0x1000\nmmap a 0x2000\nmunmap a");
        assertEquals(3, trace.ops().size());
    }

    private static String errorOf(String text) {
        return assertThrows(TraceUsageException.class, () -> parse(text)).getMessage();
    }

    private static void assertError(String text, int line, String fragment) {
        TraceUsageException e = assertThrows(TraceUsageException.class, () -> parse(text));
        assertEquals(FILE, e.file());
        assertEquals(line, e.line());
        assertTrue(e.getMessage().startsWith(FILE + ":" + line + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(fragment), () -> "'" + e.getMessage() + "' lacks '" + fragment + "'");
    }

    @Test
    void unknownOperation() {
        assertError("# c\nmmap a 1\nfrobnicate a", 3, "unknown operation 'frobnicate'");
        assertError("REGION 1 0 0 0 0", 1, "unknown operation 'REGION'");
    }

    @Test
    void wrongArity() {
        assertError("region 1 0 0 0", 1, "region takes 5 operands (region SLOT FLAGS GPA SIZE HVA), got 4");
        assertError("\nr 0 0", 2, "r takes 1 operand (r GPA), got 2");
        assertError("mmap a", 1, "mmap takes 2 operands");
        assertError("gmem g 1 0\ngmem-mmap m g", 2, "gmem-mmap takes 3 or 4 operands");
        assertError("gmem g 1 0\ngmem-mmap m g 1 shared x", 2, "got 5");
        assertError("fstat", 1, "got 0");
    }

    @Test
    void badNumbers() {
        assertError("w 0 12z", 1, "bad number '12z' for VALUE");
        assertError("w 0 -5", 1, "bad number '-5' for VALUE");
        assertError("w 0 +5", 1, "bad number '+5' for VALUE");
        assertError("w 0 0x", 1, "bad number '0x' for VALUE");
        assertError("r 0x1_000", 1, "bad number '0x1_000' for GPA");
        assertError("w 0 0x10000000000000000", 1, "VALUE 0x10000000000000000 does not fit in 64 bits");
        assertError("w 0 18446744073709551616", 1, "does not fit in 64 bits");
        assertError("mmap a 1\nhw a+zz 1", 2, "bad number 'zz' for HVA offset");
        assertError("clear 7 0 64 1,,2", 1, "bad LIST '1,,2'");
        assertError("clear 7 0 64 1,", 1, "bad LIST");
        assertError("clear 7 0 64 x", 1, "bad number 'x' for LIST page");
    }

    @Test
    void outOfRangeFields() {
        assertError("region 0x100000000 0 0 0 0", 1, "SLOT 0x100000000 does not fit in 32 bits");
        assertError("region 0 4294967296 0 0 0", 1, "FLAGS 4294967296 does not fit in 32 bits");
        assertError("region2 0 0 0 0 0 0x100000000 0", 1, "GMEM 0x100000000 does not fit in 32 bits");
        assertError("close -2147483649", 1, "GMEM -2147483649 does not fit in 32 bits");
        assertError("dirty 0x100000000 1", 1, "SLOT");
        assertError("dirty 1 0x80000000", 1, "NPAGES 0x80000000 exceeds KVM_MEM_MAX_NR_PAGES");
        assertError("clear 1 0 0x100000000 all", 1, "NUM 0x100000000 does not fit in 32 bits");
        assertError("fallocate 3 0x100000000 0 1", 1, "MODE");
        assertError("clear 7 128 68 127", 1, "LIST page 127 is outside the bitmap");
        assertError("clear 7 128 68 256", 1, "LIST page 256 is outside the bitmap");
        assertError("clear 7 0 0 0", 1, "LIST page 0 is outside the bitmap");
    }

    @Test
    void badKeywordsAndNames() {
        assertError("mmap a 1\nmadvise a 0 1 willneed", 2, "bad advice 'willneed'");
        assertError("mmap a 1\nmprotect a 0 1 rwx", 2, "bad protection 'rwx': expected one of none, ro, rw");
        assertError("enable-cap dirty-ring 1", 1, "bad capability 'dirty-ring'");
        assertError("gmem g 1 0\ngmem-mmap m g 1 maybe", 2, "bad sharing 'maybe'");
        assertError("vm sev", 1, "bad VM type 'sev'");
        assertError("mmap 1a 1", 1, "bad NAME '1a'");
        assertError("mmap a-b 1", 1, "bad NAME 'a-b'");
        assertError("mmap a 1\nhw a-1 0", 2, "bad HVA 'a-1'");
        assertError("mmap a 1\nhw +1 0", 2, "bad HVA '+1'");
    }

    @Test
    void namesMustBeDefinedByAnEarlierLineOfTheRightKind() {
        assertError("hr a\nmmap a 1", 1, "undefined name 'a': no earlier mmap or gmem-mmap line defines it");
        assertError("mmap a 1\nmunmap b", 2, "undefined name 'b'");
        assertError("region 1 0 0 0x1000 a", 1, "undefined name 'a'");
        assertError("fstat g", 1, "undefined name 'g': no earlier gmem line defines it");
        assertError("gmem g 1 0\nhr g", 2, "undefined name 'g': no earlier mmap or gmem-mmap line");
        assertError("mmap a 1\nclose a", 2, "undefined name 'a': no earlier gmem line");
        assertError("gmem-mmap m m 1", 1, "undefined name 'm'");
        assertError("mmap a 1\nmadvise c 0 1 dontneed", 2, "undefined name 'c'");
    }

    @Test
    void vmLineOnlyFirst() {
        assertError("mmap a 1\nvm sw-protected", 2, "vm must be the first operation");
        assertError("vm default\nvm sw-protected", 2, "vm must be the first operation");
    }

    @Test
    void misalignedGuestAccess() {
        assertError("r 0x1004", 1, "GPA 0x1004 is not 8-byte aligned");
        assertError("w 1 0", 1, "GPA 1 is not 8-byte aligned");
    }

    @Test
    void errorMessageIsFileColonLineColonProblem() {
        assertEquals("t.gmt:2: unknown operation 'x'", errorOf("\nx"));
    }

    @Test
    void sourceTextJoinsTokensWithSingleSpaces() {
        TraceOp op = last("  region\t1  0 0xC0000000\t0x200000 0   # c");
        assertEquals("region 1 0 0xC0000000 0x200000 0", op.source().text());
        assertEquals("t.gmt:1", op.source().where());
        assertInstanceOf(TraceOp.Region.class, op);
    }
}
