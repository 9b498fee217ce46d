package dev.guestmem.migrate;

import static dev.guestmem.memslot.KvmLimits.PAGE_SHIFT;
import static dev.guestmem.memslot.KvmLimits.PAGE_SIZE;

import dev.guestmem.vm.Access;
import dev.guestmem.vm.SlotInfo;
import dev.guestmem.vm.Vcpu;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Compares the destination with the (stopped) source byte for byte, slot by slot, and checks that both
 * VMs place every memslot at the same guest-physical address. Then, as the destination's first guest
 * code, one of its vCPUs reads a few words of every slot by guest-physical address and compares them with
 * the source: the memory is not only there, it is where the guest will look for it.
 */
final class Verifier {
    static final int MAX_REPORTED = 16;
    private static final long CHUNK = 1L << 20;
    private static final int GUEST_SAMPLES = 8;

    private final SourceMachine source;
    private final DestinationMachine destination;
    private final GuestLayout layout;

    Verifier(SourceMachine source, DestinationMachine destination, GuestLayout layout) {
        this.source = source;
        this.destination = destination;
        this.layout = layout;
    }

    Verification verify() {
        List<String> mismatches = new ArrayList<>();
        long mismatchCount = 0;
        long compared = 0;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocate(CHUNK, PAGE_SIZE);
            MemorySegment dst = arena.allocate(CHUNK, PAGE_SIZE);
            for (int i = 0; i < layout.slots(); i++) {
                for (long at = 0; at < layout.slotBytes(); at += CHUNK) {
                    long length = Math.min(CHUNK, layout.slotBytes() - at);
                    source.host().read(layout.sourceHva(i) + at, src.asSlice(0, length));
                    destination.host().read(layout.destHva(i) + at, dst.asSlice(0, length));
                    compared += length;
                    if (src.asSlice(0, length).mismatch(dst.asSlice(0, length)) < 0) {
                        continue;
                    }
                    for (long p = 0; p < length; p += PAGE_SIZE) {
                        if (src.asSlice(p, PAGE_SIZE).mismatch(dst.asSlice(p, PAGE_SIZE)) >= 0) {
                            mismatchCount++;
                            if (mismatches.size() < MAX_REPORTED) {
                                mismatches.add(GuestLayout.id(i) + ":" + ((at + p) >>> PAGE_SHIFT));
                            }
                        }
                    }
                }
            }
        }
        List<String> problems = new ArrayList<>();
        layoutProblems(problems);
        long guestChecks = guestChecks(problems);
        return new Verification(compared, mismatches, mismatchCount, problems, guestChecks);
    }

    private void layoutProblems(List<String> problems) {
        for (int i = 0; i < layout.slots(); i++) {
            int id = GuestLayout.id(i);
            long src = source.vm().slot(id).map(SlotInfo::baseGfn).orElse(-1L);
            long dst = destination.vm().slot(id).map(SlotInfo::baseGfn).orElse(-1L);
            if (src != dst || src != layout.gpa(i) >>> PAGE_SHIFT) {
                problems.add("slot " + id + ": source gfn 0x" + Long.toHexString(src) + ", destination gfn 0x"
                        + Long.toHexString(dst));
            }
        }
    }

    /** Words read through a destination vCPU that equal the source's; the others become problems. */
    private long guestChecks(List<String> problems) {
        Vcpu cpu = destination.vm().vcpu(0);
        long checks = 0;
        for (int i = 0; i < layout.slots(); i++) {
            for (int s = 0; s < GUEST_SAMPLES; s++) {
                long offset = (layout.slotBytes() / GUEST_SAMPLES) * s;
                long expected = source.host().read64(layout.sourceHva(i) + offset);
                Access got = cpu.read64(layout.gpa(i) + offset);
                if (got instanceof Access.Value(long value) && value == expected) {
                    checks++;
                } else {
                    problems.add("destination guest read at 0x" + Long.toHexString(layout.gpa(i) + offset)
                            + " gave " + got + ", source has 0x" + Long.toHexString(expected));
                }
            }
        }
        return checks;
    }
}
