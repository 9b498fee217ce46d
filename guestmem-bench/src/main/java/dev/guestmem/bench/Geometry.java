package dev.guestmem.bench;

import static dev.guestmem.memslot.KvmLimits.PAGE_SHIFT;

import dev.guestmem.memslot.Memslot;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.memslot.MemslotStore;
import dev.guestmem.memslot.PublishBarrier;
import dev.guestmem.perf.SlotLayout;
import dev.guestmem.sync.Srcu;

/**
 * The slot layout of {@code memslot_perf_test} (kernel-selftests spec §B): data slots contiguous in guest
 * physical memory from {@code MEM_GPA}, slot {@code k} at {@code MEM_GPA + k * pagesPerSlot} pages.
 */
final class Geometry {
    /** {@code MEM_GPA}: where the first data slot starts. */
    static final long MEM_GPA = SlotLayout.MEM_GPA;
    static final long BASE_GFN = MEM_GPA >>> PAGE_SHIFT;
    /** {@code MEM_TEST_MOVE_GPA_DEST}: past the whole test area, where the move tests send the last slot. */
    static final long MOVE_DEST_GPA = SlotLayout.MOVE_DEST_GPA;
    /**
     * Host addresses for slots without a real mapping: page aligned and inside user space, which is all the
     * region checks look at (spec §1.1); no benchmark here touches guest memory through them.
     */
    static final long FAKE_HVA = 0x7f00_0000_0000L;
    /** {@code MEM_SIZE} of memslot_perf_test in 4 KiB pages: what the setup test splits over its slots. */
    static final long MEM_PAGES = SlotLayout.MEM_PAGES;

    private Geometry() {
    }

    /** An empty store of {@code impl} with one address space (a VM without SMM). */
    static MemslotStore emptyStore(MemslotImpl impl, Srcu srcu) {
        return impl.create(1, srcu, PublishBarrier.NONE);
    }

    /** Slot {@code id} of address space 0 in the contiguous layout, {@code pagesPerSlot} pages. */
    static Memslot slot(int id, long pagesPerSlot) {
        long offset = id * pagesPerSlot;
        return new Memslot(0, id, BASE_GFN + offset, pagesPerSlot, 0, FAKE_HVA + (offset << PAGE_SHIFT), null);
    }

    /** Installs slots {@code 0 .. count-1} of the contiguous layout, one install (and grace period) each. */
    static void fill(MemslotStore store, int count, long pagesPerSlot) {
        for (int id = 0; id < count; id++) {
            store.install(0, id, slot(id, pagesPerSlot));
        }
    }
}
