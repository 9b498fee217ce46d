package dev.guestmem.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.trace.TraceParser;
import dev.guestmem.trace.TraceReplayer;
import dev.guestmem.trace.VmFactory;
import dev.guestmem.vm.Access;
import dev.guestmem.vm.EngineVm;
import dev.guestmem.vm.Vcpu;
import dev.guestmem.vm.VmType;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A host store to a page a guest read mapped as the zero page: the store's copy-on-write break
 * invalidates the page, so the guest's read-only SPTE goes and the next access faults the written page
 * in. Without that invalidation the stale read-only SPTE would survive, and a dirty-logging slot would
 * miss the page a re-faulting read logs on the kernel.
 */
class HostStoreCopyOnWriteTest {
    private static final long GPA = 0xC0000000L;

    private final EngineVm vm = EngineVm.create(VmType.DEFAULT, MemslotImpl.TREE);
    private final Vcpu cpu = vm.vcpu(0);

    @AfterEach
    void close() {
        assertEquals(List.of(), vm.mmu().invariants().violations());
        vm.close();
    }

    private List<String> leaves() {
        List<String> out = new ArrayList<>();
        vm.mmu().forEachLeaf((gfn, level, spte) -> out.add(Long.toHexString(gfn) + (Spte.isWritable(spte) ? "rw" : "ro")));
        return out;
    }

    @Test
    void aHostStoreDropsTheZeroPageSpteOfEveryAlias() {
        long a = vm.host().mmap(0x1000);
        assertEquals(0, vm.setUserMemoryRegion(1, 0, GPA, 0x1000, a));
        assertEquals(0, vm.setUserMemoryRegion(2, 0, GPA + 0x100000, 0x1000, a));
        assertEquals(new Access.Value(0), cpu.read64(GPA));
        assertEquals(new Access.Value(0), cpu.read64(GPA + 0x100000));
        assertEquals(List.of("c0000ro", "c0100ro"), leaves(), "both aliases map the zero page read-only");
        long invalidations = vm.stats().orElseThrow().invalidations();

        vm.host().write64(a + 8, 0x42);

        assertEquals(invalidations + 1, vm.stats().orElseThrow().invalidations(), "one copy-on-write break");
        assertEquals(List.of(), leaves(), "no SPTE maps the replaced zero page");
        assertEquals(new Access.Value(0x42), cpu.read64(GPA + 8));
        assertEquals(List.of("c0000rw"), leaves(), "the re-fault finds the written page and maps it writable");
        vm.host().write64(a + 16, 0x43);
        assertEquals(invalidations + 1, vm.stats().orElseThrow().invalidations(), "a written page breaks nothing");
        assertEquals(List.of("c0000rw"), leaves());
    }

    @Test
    void withDirtyLoggingTheReadAfterTheHostStoreLogsThePage() {
        // The lines the kernel prints for this trace (Linux 6.18, checked with `guestmem run --backend both`).
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
        List<String> lines = new TraceReplayer(VmFactory.engine(), MemslotImpl.TREE)
                .replay(TraceParser.parse("cow.gmt", trace));
        assertEquals(List.of("ok", "ok", "val 0x0", "bits -", "ok", "val 0x77", "bits 0", "val 0x0", "ok", "ok",
                "bits 1", "val 0x5"), lines);
    }
}
