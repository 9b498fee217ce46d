package dev.guestmem.migrate;

import static dev.guestmem.memslot.KvmLimits.PAGE_SHIFT;
import static dev.guestmem.memslot.KvmLimits.PAGE_SIZE;

import dev.guestmem.host.HostMemory;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.LongConsumer;

/**
 * Copies pages from the source's host memory to the destination's, run by run through a bounce buffer
 * (the wire). A page that is all zeros on the source and was never written on the destination is not
 * sent: fresh destination memory already reads as zeros (what VMMs do for zero pages). Not thread-safe;
 * one sender per migration.
 */
final class PageSender implements AutoCloseable {
    /** Pages per bounce buffer: 256 KiB. */
    private static final int RUN = 64;

    private final HostMemory source;
    private final HostMemory destination;
    private final GuestLayout layout;
    private final Throttle throttle;
    private final SendFilter filter;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment buffer;
    private final MemorySegment zeroPage;
    /** The destination's copy of a page, for test filters. */
    private final MemorySegment probe;
    /** Per slot: destination pages written at least once. */
    private final PageSet written;

    /** What one call sent. */
    record Sent(long pages, long zeroPages, long bytes) {
    }

    PageSender(HostMemory source, HostMemory destination, GuestLayout layout, Throttle throttle, SendFilter filter) {
        this.source = source;
        this.destination = destination;
        this.layout = layout;
        this.throttle = throttle;
        this.filter = filter;
        this.buffer = arena.allocate(RUN * PAGE_SIZE, PAGE_SIZE);
        this.zeroPage = arena.allocate(PAGE_SIZE, PAGE_SIZE);
        this.probe = arena.allocate(PAGE_SIZE, PAGE_SIZE);
        this.written = new PageSet(layout.slots(), layout.pagesPerSlot());
    }

    /**
     * Sends every page of {@code pages}, telling {@code progress} how many pages each run covered.
     *
     * @param round        the round number (for the filter)
     * @param stopAndCopy  whether the vCPUs are stopped (the final round)
     */
    Sent send(PageSet pages, int round, boolean stopAndCopy, LongConsumer progress) {
        long sent = 0;
        long zeros = 0;
        for (int slot = 0; slot < pages.slots(); slot++) {
            for (long p = pages.next(slot, 0); p >= 0; ) {
                long end = p + 1;
                while (end - p < RUN && end < layout.pagesPerSlot() && pages.contains(slot, end)) {
                    end++;
                }
                long[] counts = sendRun(slot, p, end, round, stopAndCopy);
                sent += counts[0];
                zeros += counts[1];
                progress.accept(end - p);
                p = pages.next(slot, end);
            }
        }
        return new Sent(sent, zeros, sent * PAGE_SIZE);
    }

    /** Reads pages {@code [first, end)} of a slot at once, writes those that must be sent; {sent, zero}. */
    private long[] sendRun(int slot, long first, long end, int round, boolean stopAndCopy) {
        int count = (int) (end - first);
        MemorySegment run = buffer.asSlice(0, count * PAGE_SIZE);
        source.read(layout.sourceHva(slot) + (first << PAGE_SHIFT), run);
        long sent = 0;
        long zeros = 0;
        long pending = -1; // first page of the stretch still to be written
        for (long p = first; p <= end; p++) {
            boolean write = false;
            if (p < end) {
                MemorySegment page = run.asSlice((p - first) * PAGE_SIZE, PAGE_SIZE);
                boolean zero = page.mismatch(zeroPage) < 0;
                if (zero && !written.contains(slot, p)) {
                    zeros++;
                } else {
                    write = filter == SendFilter.ALL || filter.send(round, stopAndCopy, GuestLayout.id(slot), p,
                            changesDestination(slot, p, page));
                }
            }
            if (write && pending < 0) {
                pending = p;
            } else if (!write && pending >= 0) {
                writeStretch(slot, first, pending, p, run);
                sent += p - pending;
                pending = -1;
            }
        }
        return new long[] {sent, zeros};
    }

    /** Whether {@code page} differs from the destination's copy of page {@code p} (test filters only). */
    private boolean changesDestination(int slot, long p, MemorySegment page) {
        destination.read(layout.destHva(slot) + (p << PAGE_SHIFT), probe);
        return page.mismatch(probe) >= 0;
    }

    private void writeStretch(int slot, long runFirst, long from, long to, MemorySegment run) {
        MemorySegment stretch = run.asSlice((from - runFirst) * PAGE_SIZE, (to - from) * PAGE_SIZE);
        destination.write(layout.destHva(slot) + (from << PAGE_SHIFT), stretch);
        for (long p = from; p < to; p++) {
            written.add(slot, p);
        }
        throttle.sent(stretch.byteSize());
    }

    @Override
    public void close() {
        arena.close();
    }
}
