package dev.guestmem.bench;

import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.vm.Access;
import dev.guestmem.vm.EngineVm;
import dev.guestmem.vm.Vcpu;
import dev.guestmem.vm.VmType;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The fault benchmarks' VM: one slot of {@link #size()} bytes at gpa 4 GiB over one host mapping, and
 * vCPU 0. Each measured access goes to the next page of the slot, wrapping around.
 */
abstract class OneSlotVm {
    static final long GPA = 0x1_0000_0000L;
    private static final long PAGE = 4096;

    EngineVm vm;
    Vcpu vcpu;
    long hva;
    /** Offset of the next page to touch; subclasses reset it before each iteration. */
    long next;

    /** The slot's size, a power of two. */
    abstract long size();

    /** Runs on the fresh mapping before the slot is added (e.g. to make its pages resident). */
    void prepare() {
    }

    @Setup(Level.Trial)
    public void setUp() {
        vm = EngineVm.create(VmType.DEFAULT, MemslotImpl.TREE);
        hva = vm.host().mmap(size());
        prepare();
        if (vm.setUserMemoryRegion(1, 0, GPA, size(), hva) != 0) {
            throw new IllegalStateException("region");
        }
        vcpu = vm.vcpu(0);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        vm.close();
    }

    /** The offset of the page to touch now, advancing to the next. */
    long nextOffset() {
        long off = next;
        next = (off + PAGE) & (size() - 1);
        return off;
    }

    /** A guest store to the next page. */
    Access storeToNextPage() {
        long off = nextOffset();
        return vcpu.write64(GPA + off, off);
    }
}
