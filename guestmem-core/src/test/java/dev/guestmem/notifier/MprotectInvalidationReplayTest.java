package dev.guestmem.notifier;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.trace.TraceParser;
import dev.guestmem.trace.TraceReplayer;
import dev.guestmem.trace.VmFactory;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * An {@code mprotect} that changes no page's protection invalidates nothing, so SPTEs survive it; one
 * that changes some pages invalidates those. Visible through dirty logging: after a GET write-protected
 * a logged page, a read through the surviving SPTE logs nothing, while a read that re-faults maps the
 * written page writable and logs it.
 */
class MprotectInvalidationReplayTest {
    @Test
    void onlyAProtectionChangeDropsTheSptes() {
        // Shrunk from differential-fuzz seed 101357; the lines are the kernel's (Linux 6.18, --backend both).
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
            List<String> lines = new TraceReplayer(VmFactory.engine(), impl).replay(TraceParser.parse("m.gmt", trace));
            assertEquals(List.of("ok", "ok", "ok", "val 0x0", "bits 0", "ok", "val 0x0", "bits -", "ok", "ok",
                    "val 0x0", "bits 0"), lines, impl.toString());
        }
    }
}
