package dev.guestmem.bench;

import dev.guestmem.memslot.MemslotFlags;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.vm.EngineVm;
import dev.guestmem.vm.Vcpu;
import dev.guestmem.vm.VmType;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The state the dirty-log benchmarks share: a 1 GiB logging memslot (262,144 pages, a 32 KiB bitmap) every
 * page of which a vCPU has written once, then reaped by a legacy GET, so that every page is mapped and
 * write-protected for dirty logging.
 */
@State(Scope.Thread)
public abstract class DirtyLogSlot {
    static final long GPA = 0x1_0000_0000L;
    static final long SLOT_BYTES = 1L << 30;
    static final long PAGES = SLOT_BYTES >>> 12;

    EngineVm vm;
    Vcpu vcpu;
    final long[] bitmap = new long[(int) (PAGES / 64)];

    @Setup(Level.Trial)
    public void setUpSlot() {
        vm = EngineVm.create(VmType.DEFAULT, MemslotImpl.TREE);
        long hva = vm.host().mmap(SLOT_BYTES);
        check(vm.setUserMemoryRegion(1, MemslotFlags.LOG_DIRTY_PAGES, GPA, SLOT_BYTES, hva));
        vcpu = vm.vcpu(0);
        vcpu.run(g -> {
            for (long p = 0; p < PAGES; p++) {
                g.write64(GPA + (p << 12), p);
            }
        });
        check(vm.getDirtyLog(1, bitmap));
    }

    @TearDown(Level.Trial)
    public void tearDownSlot() {
        vm.close();
    }

    static void check(int errno) {
        if (errno != 0) {
            throw new IllegalStateException("errno " + errno);
        }
    }
}
