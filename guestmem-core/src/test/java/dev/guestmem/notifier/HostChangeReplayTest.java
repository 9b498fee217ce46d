package dev.guestmem.notifier;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.trace.TraceParser;
import dev.guestmem.trace.TraceReplayer;
import dev.guestmem.trace.VmFactory;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Which host changes drop guest mappings, as the kernel's mm decides: a host store that replaces a zero
 * page a guest read mapped invalidates that page; an {@code mprotect} that changes no page's protection
 * invalidates nothing, so SPTEs survive it; one that changes some pages invalidates those; cutting a VMA
 * inside a 2 MiB frame it wholly covers invalidates that frame. Visible through dirty logging: after a
 * GET write-protected a logged page, a read through a surviving SPTE logs nothing, while a read that
 * re-faults maps the written page writable and logs it. Every trace's lines are the kernel's (Linux
 * 6.18, {@code guestmem run --backend both}).
 */
class HostChangeReplayTest {
    private static List<String> replay(MemslotImpl impl, String trace) {
        return new TraceReplayer(VmFactory.engine(), impl).replay(TraceParser.parse("host-change.gmt", trace));
    }

    @Test
    void aHostStoreToAPageAGuestReadAsTheZeroPageMakesTheNextReadLogIt() {
        String trace = """
                mmap a 0x2000
                region 1 1 0xc0000000 0x2000 a
                r 0xc0000000
                dirty 1 2
                hw a 0x77
                r 0xc0000000
                dirty 1 2
                r 0xc0001000
                hw a+0x1008 0x5
                w 0xc0001000 0x6
                dirty 1 2
                r 0xc0001008
                """;
        assertEquals(List.of("ok", "ok", "val 0x0", "bits -", "ok", "val 0x77", "bits 0", "val 0x0", "ok", "ok",
                "bits 1", "val 0x5"), replay(MemslotImpl.TREE, trace));
    }

    @Test
    void onlyAProtectionChangeDropsTheSptes() {
        // Shrunk from differential-fuzz seed 101357.
        String trace = """
                mmap b 0x10000
                hw b+0x260 0xbd5581022981a22d
                region 4 1 0x8000f000 0x2000 b
                r 0x8000f370
                dirty 4 2
                mprotect b 0x0 0x10000 rw
                r 0x8000f000
                dirty 4 2
                mprotect b 0x0 0x1000 ro
                mprotect b 0x0 0x2000 rw
                r 0x8000f000
                dirty 4 2
                """;
        for (MemslotImpl impl : MemslotImpl.values()) {
            assertEquals(List.of("ok", "ok", "ok", "val 0x0", "bits 0", "ok", "val 0x0", "bits -", "ok", "ok",
                    "val 0x0", "bits 0"), replay(impl, trace), impl.toString());
        }
    }

    @Test
    void cuttingAMappingInsideAWholeTwoMegabyteFrameDropsTheFrame() {
        // A 4 MiB mapping is 2 MiB aligned (Linux aligns anonymous mappings of 2 MiB multiples). The cut at
        // 0x201000 re-logs pages 512 and 1023 but not 0;
        // huge-page advice cut at 0x3000 re-logs page 0; the cut at 0x3ff000 lies in an area that no longer
        // covers its frame.
        String trace = """
                mmap a 0x400000
                region 1 1 0xc0000000 0x400000 a
                w 0xc0000000 0x1
                w 0xc0200000 0x1
                w 0xc03ff000 0x1
                dirty 1 1024
                mprotect a 0x201000 0x1000 ro
                r 0xc0000000
                r 0xc0200000
                r 0xc03ff000
                dirty 1 1024
                madvise a 0x0 0x3000 hugepage
                r 0xc0000000
                dirty 1 1024
                mprotect a 0x3ff000 0x1000 none
                r 0xc0200000
                dirty 1 1024
                """;
        assertEquals(List.of("ok", "ok", "ok", "ok", "ok", "bits 0,512,1023", "ok", "val 0x1", "val 0x1", "val 0x1",
                "bits 512,1023", "ok", "val 0x1", "bits 0", "ok", "val 0x1", "bits -"), replay(MemslotImpl.TREE, trace));
    }
}
