package dev.guestmem.migrate;

import static dev.guestmem.memslot.KvmLimits.PAGE_SHIFT;
import static dev.guestmem.memslot.KvmLimits.PAGE_SIZE;

import dev.guestmem.host.Advice;
import dev.guestmem.memslot.MemslotFlags;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Things a real VMM does to a running VM that a migration must survive, done while the vCPUs run:
 * <ol>
 *   <li>a write to guest memory from the VMM side (device emulation): through {@code kvm_write_guest}
 *       in the bitmap modes, which logs it (KDL-07); in ring mode KVM cannot log a write made without a
 *       running vCPU (the kernel drops it with a WARN), so the VMM writes through its own mapping and
 *       resends the page itself, as VMMs do for their own writes;</li>
 *   <li>a memslot MOVE of the last slot to new guest-physical addresses: its dirty bitmap moves with it,
 *       the destination mirrors the move, and the guest's stores follow the slot (those caught during
 *       the move exit as MMIO and are lost, like any store to no memory);</li>
 *   <li>{@code madvise(MADV_DONTNEED)} on 2 MiB of the first slot's host memory (a balloon): the pages
 *       read as zeros from now on, and host-side changes are never in the dirty log, so the VMM resends
 *       them itself.</li>
 * </ol>
 */
final class Chaos {
    private static final long DISCARD = 2L << 20;

    private final SourceMachine source;
    private final DestinationMachine destination;
    private final GuestLayout layout;
    private final LogMode mode;

    Chaos(SourceMachine source, DestinationMachine destination, GuestLayout layout, LogMode mode) {
        this.source = source;
        this.destination = destination;
        this.layout = layout;
        this.mode = mode;
    }

    /** Does all three; adds to {@code resend} the pages the VMM knows it changed. Returns what it did. */
    List<String> strike(PageSet resend) {
        List<String> events = new ArrayList<>();
        events.add(vmmWrite(resend));
        events.add(move());
        events.add(discard(resend));
        return events;
    }

    private String vmmWrite(PageSet resend) {
        long page = 7;
        long[] words = new long[(int) (PAGE_SIZE / 8)];
        Arrays.fill(words, 0xD0A_D0A_D0AL);
        MemorySegment data = MemorySegment.ofArray(words);
        if (mode == LogMode.RING) {
            source.host().write(layout.sourceHva(0) + (page << PAGE_SHIFT), data);
            resend.add(0, page);
            return "VMM wrote page " + page + " of slot 1 through its own mapping (rings log vCPU writes only)";
        }
        SourceMachine.check(source.vm().dirtyLog().writer().write(layout.gpa(0) + (page << PAGE_SHIFT), data),
                "kvm_write_guest");
        return "VMM wrote page " + page + " of slot 1 through kvm_write_guest (logged by KVM)";
    }

    private String move() {
        int i = layout.slots() - 1;
        int id = GuestLayout.id(i);
        long from = layout.gpa(i);
        long to = layout.top() + MigrationOptions.SLOT_ALIGN;
        SourceMachine.check(source.vm().setUserMemoryRegion(id, MemslotFlags.LOG_DIRTY_PAGES, to,
                layout.slotBytes(), layout.sourceHva(i)), "memslot MOVE");
        SourceMachine.check(destination.vm().setUserMemoryRegion(id, 0, to, layout.slotBytes(),
                layout.destHva(i)), "destination memslot MOVE");
        layout.moved(i, to);
        return "memslot " + id + " moved from 0x" + Long.toHexString(from) + " to 0x" + Long.toHexString(to)
                + " while the vCPUs ran";
    }

    private String discard(PageSet resend) {
        long offset = layout.slotBytes() / 2 / DISCARD * DISCARD;
        SourceMachine.check(source.host().madvise(layout.sourceHva(0) + offset, DISCARD, Advice.DONTNEED),
                "madvise(MADV_DONTNEED)");
        long first = offset >>> PAGE_SHIFT;
        for (long p = first; p < first + (DISCARD >>> PAGE_SHIFT); p++) {
            resend.add(0, p);
        }
        return "host discarded 2 MiB of slot 1 at offset 0x" + Long.toHexString(offset)
                + " (madvise DONTNEED; the VMM resends it)";
    }
}
