package dev.guestmem.vm.model;

import static dev.guestmem.Errno.EBADF;
import static dev.guestmem.Errno.EINVAL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.guestmem.Errno;
import dev.guestmem.gmem.GuestMemfd;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.vm.RegionRequest;
import dev.guestmem.vm.VmType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Checks the reference model itself: the region lines of {@code traces/02-validation.gmt} and of
 * {@code traces/07-guest-memfd.gmt}, translated by hand, run on the model and on the engine; both must give
 * the answer Linux 6.18 recorded in the {@code .expected} files, and agree on slots and generations after
 * every line.
 *
 * <p>Both run configured like the reference kernel, which has no SMM: trace 02 line 4 asks for address
 * space 1 of a default VM and gets EINVAL there. {@link #recordedAnswersAreTheOnesTranscribed} keeps the
 * transcription honest.
 */
class RegionModelTraceTest {
    /** The mapping {@code a} of the traces: arguments are checked as numbers, nothing is touched. */
    static final long A = 0x7f12_3440_0000L;
    static final int OK = 0;

    /** One translated line: its line number in the .gmt file, the call, and Linux 6.18's answer. */
    record Line(int lineNo, String text, RegionRequest request, int kernelErrno) {
    }

    static RegionRequest v1(int slot, int flags, long gpa, long size, long hva) {
        return RegionRequest.v1(slot, flags, gpa, size, hva);
    }

    static List<Line> trace02() {
        return List.of(
                new Line(3, "region 32764 0 0 0x1000 a", v1(32764, 0, 0, 0x1000, A), EINVAL),
                new Line(4, "region 0x10000 0 0 0x1000 a", v1(0x10000, 0, 0, 0x1000, A), EINVAL),
                new Line(5, "region 0x20000 0 0 0x1000 a", v1(0x20000, 0, 0, 0x1000, A), EINVAL),
                new Line(6, "region 0 4 0 0x1000 a", v1(0, 4, 0, 0x1000, A), EINVAL),
                new Line(7, "region 0 8 0 0x1000 a", v1(0, 8, 0, 0x1000, A), EINVAL),
                new Line(8, "region 0 0x10000 0 0x1000 a", v1(0, 0x10000, 0, 0x1000, A), EINVAL),
                new Line(9, "region 0 0 0 0x1001 a", v1(0, 0, 0, 0x1001, A), EINVAL),
                new Line(10, "region 0 0 0x1001 0x1000 a", v1(0, 0, 0x1001, 0x1000, A), EINVAL),
                new Line(11, "region 0 0 0 0x1000 a+1", v1(0, 0, 0, 0x1000, A + 1), EINVAL),
                new Line(12, "region 0 0 0 0x1000 0xffff800000000000",
                        v1(0, 0, 0, 0x1000, 0xffff_8000_0000_0000L), EINVAL),
                new Line(13, "region 0 0 0xfffffffffffff000 0x2000 a",
                        v1(0, 0, 0xffff_ffff_ffff_f000L, 0x2000, A), EINVAL),
                new Line(14, "region 0 0 0 0x1000 0", v1(0, 0, 0, 0x1000, 0), OK),
                new Line(15, "region 0 0 0 0x1000 a", v1(0, 0, 0, 0x1000, A), EINVAL),
                new Line(16, "region 0 0 0 0x2000 a", v1(0, 0, 0, 0x2000, A), EINVAL),
                new Line(17, "region 0 0 0 0x1000 a+0x1000", v1(0, 0, 0, 0x1000, A + 0x1000), EINVAL),
                new Line(18, "region 0 2 0 0x1000 a", v1(0, 2, 0, 0x1000, A), EINVAL),
                new Line(19, "region 0 0 0 0x1000 a", v1(0, 0, 0, 0x1000, A), EINVAL),
                new Line(20, "region 0 1 0 0x1000 a", v1(0, 1, 0, 0x1000, A), EINVAL),
                new Line(21, "region 0 1 0x1000 0x1000 a", v1(0, 1, 0x1000, 0x1000, A), EINVAL),
                new Line(22, "region 1 0 0x1000 0x1000 a+0x1000", v1(1, 0, 0x1000, 0x1000, A + 0x1000), OK),
                new Line(23, "region 1 0 0x2000 0x1000 a+0x1000", v1(1, 0, 0x2000, 0x1000, A + 0x1000), OK),
                new Line(24, "region 2 0 0x3000 0x1000 a+0x1000", v1(2, 0, 0x3000, 0x1000, A + 0x1000), OK),
                new Line(25, "region 3 0 0 0 a", v1(3, 0, 0, 0, A), EINVAL),
                new Line(26, "region 1 0 0 0 a", v1(1, 0, 0, 0, A), OK),
                new Line(27, "region 1 0 0 0 a", v1(1, 0, 0, 0, A), EINVAL));
    }

    /**
     * The region lines of trace 07. {@code s} is created with MMAP|INIT_SHARED (size 0x4000), {@code p}
     * with no flags (size 0x4000); fds are the lockstep's, so the two files are registered first.
     */
    static List<Line> trace07(int s, int p) {
        return List.of(
                new Line(27, "region2 1 4 0x100000000 0x2000 0 s 0", v2(1, 4, 0x1_0000_0000L, 0x2000, 0, s, 0), OK),
                new Line(28, "region2 2 4 0x40000000 0x2000 0 s 0x1000", v2(2, 4, 0x4000_0000L, 0x2000, 0, s, 0x1000),
                        EINVAL),
                new Line(29, "region2 2 4 0x40000000 0x2000 0 s 0x3000", v2(2, 4, 0x4000_0000L, 0x2000, 0, s, 0x3000),
                        EINVAL),
                new Line(30, "region2 2 4 0x40000000 0x2000 0 s 0x2000", v2(2, 4, 0x4000_0000L, 0x2000, 0, s, 0x2000),
                        OK),
                new Line(31, "region2 2 4 0x40000000 0x2000 0 s 0x2001", v2(2, 4, 0x4000_0000L, 0x2000, 0, s, 0x2001),
                        EINVAL),
                new Line(32, "region2 3 4 0x50000000 0x1000 0 999 0", v2(3, 4, 0x5000_0000L, 0x1000, 0, 999, 0),
                        EBADF),
                new Line(33, "region2 3 5 0x50000000 0x1000 0 s 0", v2(3, 5, 0x5000_0000L, 0x1000, 0, s, 0), EINVAL),
                new Line(34, "region2 3 6 0x50000000 0x1000 0 s 0", v2(3, 6, 0x5000_0000L, 0x1000, 0, s, 0), EINVAL),
                new Line(35, "region 3 4 0x50000000 0x1000 0", v1(3, 4, 0x5000_0000L, 0x1000, 0), EINVAL),
                new Line(44, "region2 4 4 0x50000000 0x4000 0 p 0", v2(4, 4, 0x5000_0000L, 0x4000, 0, p, 0), OK),
                new Line(46, "region2 2 0 0x40000000 0x2000 0 s 0x2000", v2(2, 0, 0x4000_0000L, 0x2000, 0, s, 0x2000),
                        EINVAL),
                new Line(47, "region2 2 4 0x48000000 0x2000 0 s 0x2000", v2(2, 4, 0x4800_0000L, 0x2000, 0, s, 0x2000),
                        EINVAL),
                new Line(48, "region2 2 0 0x40000000 0 0 -1 0", v2(2, 0, 0x4000_0000L, 0, 0, -1, 0), OK),
                new Line(50, "region2 2 4 0x48000000 0x2000 0 s 0x2000", v2(2, 4, 0x4800_0000L, 0x2000, 0, s, 0x2000),
                        OK));
    }

    static RegionRequest v2(int slot, int flags, long gpa, long size, long hva, int fd, long offset) {
        return new RegionRequest(true, slot, flags, gpa, size, hva, fd, offset);
    }

    /** Runs {@code lines}, checking engine = model after each, and the kernel's answer unless listed. */
    static void replay(String trace, RegionLockstep state, List<Line> lines) {
        for (Line line : lines) {
            String where = trace + ":" + line.lineNo();
            int err = state.apply(line.request(), where + " " + line.text());
            state.checkAgreement();
            assertEquals(name(line.kernelErrno()), name(err), where + " " + line.text());
        }
    }

    static String name(int errno) {
        return errno == 0 ? "ok" : "err " + Errno.name(errno);
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void trace02ValidationLines(MemslotImpl impl) {
        RegionLockstep state = RegionLockstep.likeReferenceKernel(VmType.DEFAULT, impl);
        replay("02", state, trace02());
        // What is left: slot 0 (hva 0) and slot 2 in address space 0; line 4 asked for address space 1, which this kernel lacks.
        assertEquals(List.of(0, 2), state.model().slots(0).stream().map(ReferenceMemslots.Slot::id).toList());
        assertEquals(0L, state.vm().slot(0).orElseThrow().userspaceAddr());
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void trace07GuestMemfdRegionLines(MemslotImpl impl) {
        RegionLockstep state = RegionLockstep.likeReferenceKernel(VmType.DEFAULT, impl);
        int s = state.createGuestMemfd(0x4000, GuestMemfd.FLAG_MMAP | GuestMemfd.FLAG_INIT_SHARED);
        int p = state.createGuestMemfd(0x4000, 0);
        replay("07", state, trace07(s, p));
        // Slots bound to an MMAP guest_memfd are gmem-only; the other one is not.
        assertEquals(ReferenceMemslots.GUEST_MEMFD | ReferenceMemslots.GMEM_ONLY, state.vm().slot(1).orElseThrow().flags());
        assertEquals(ReferenceMemslots.GUEST_MEMFD, state.vm().slot(4).orElseThrow().flags());
        assertEquals(2, state.vm().slot(2).orElseThrow().gmemPgoff());
    }

    /** The hand translation matches the recorded outputs line for line (needs shared/ beside the repo). */
    @Test
    void recordedAnswersAreTheOnesTranscribed() throws IOException {
        Path traces = Path.of(System.getProperty("guestmem.shared", "../shared"), "traces");
        assumeTrue(Files.isRegularFile(traces.resolve("02-validation.gmt")), "shared/traces not available");
        assertEquals(recorded(traces, "02-validation"), transcribed(trace02()));
        assertEquals(recorded(traces, "07-guest-memfd"), transcribed(trace07(100, 101)));
    }

    private static List<String> transcribed(List<Line> lines) {
        List<String> out = new ArrayList<>();
        for (Line line : lines) {
            out.add(line.lineNo() + ": " + line.text() + " -> " + name(line.kernelErrno()));
        }
        return out;
    }

    /** The region lines of a trace paired with their recorded results. */
    private static List<String> recorded(Path traces, String name) throws IOException {
        List<String> source = Files.readAllLines(traces.resolve(name + ".gmt"));
        List<String> results = Files.readAllLines(traces.resolve(name + ".expected"));
        List<String> out = new ArrayList<>();
        int op = 0;
        for (int i = 0; i < source.size(); i++) {
            String text = source.get(i).replaceFirst("#.*", "").strip();
            if (text.isEmpty()) {
                continue;
            }
            String result = results.get(op++);
            if (text.startsWith("region")) {
                out.add((i + 1) + ": " + text + " -> " + result);
            }
        }
        return out;
    }
}
