package dev.guestmem.gmem;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.memslot.Memslot;
import java.util.ArrayList;
import java.util.List;

/**
 * A fake MMU that records every call and checks the shape of every window as it happens: begin, zaps,
 * zapsDone, end; no zap outside a window, no window inside a window, no empty or out-of-slot zap.
 */
final class RecordingTarget implements GmemInvalidationTarget {
    /** One recorded zap. */
    record Zap(Memslot slot, long start, long end, ZapFilter filter) {
    }

    final List<Zap> zaps = new ArrayList<>();
    final List<String> events = new ArrayList<>();
    int begins;
    int ends;
    private boolean open;
    private boolean zapsDone;

    @Override
    public void begin() {
        assertTrue(!open, "a window opened inside a window");
        open = true;
        begins++;
        events.add("begin");
    }

    @Override
    public void zap(Memslot slot, long startGfn, long endGfn, ZapFilter filter) {
        assertTrue(open && !zapsDone, "zap outside a window, or after zapsDone");
        assertTrue(Long.compareUnsigned(startGfn, endGfn) < 0, "empty zap");
        assertTrue(slot.contains(startGfn) && slot.contains(endGfn - 1), "zap outside its slot: " + slot + " ["
                + Long.toHexString(startGfn) + ", " + Long.toHexString(endGfn) + ")");
        zaps.add(new Zap(slot, startGfn, endGfn, filter));
        events.add("zap " + slot.id() + " 0x" + Long.toHexString(startGfn) + "-0x" + Long.toHexString(endGfn)
                + " " + filter);
    }

    @Override
    public void zapsDone() {
        assertTrue(open, "zapsDone outside a window");
        assertTrue(!zapsDone, "zapsDone twice in a window");
        assertTrue(!events.isEmpty() && events.get(events.size() - 1).startsWith("zap "), "zapsDone without a zap");
        zapsDone = true;
        events.add("done");
    }

    @Override
    public void end() {
        assertTrue(open, "end without begin");
        assertTrue(zapsDone, "end before zapsDone");
        zapsDone = false;
        open = false;
        ends++;
        events.add("end");
    }

    /** Whether no window is open now. */
    boolean closed() {
        return !open;
    }

    void assertNoWindow() {
        assertEquals(0, begins, "begins");
        assertEquals(0, ends, "ends");
        assertTrue(zaps.isEmpty(), "zaps");
    }

    void reset() {
        zaps.clear();
        events.clear();
        begins = 0;
        ends = 0;
    }
}
