package dev.guestmem.migrate;

import static dev.guestmem.memslot.KvmLimits.PAGE_SHIFT;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Where the migrated guest's memory lives: memslots 1..n of equal size, contiguous in guest-physical
 * space from {@link #BASE_GPA}, each backed by one mapping on the source and one on the destination. A
 * slot's guest-physical address changes when it is moved ({@link #moved}); guest code reads it afresh
 * for every store.
 */
final class GuestLayout {
    /** Guest-physical address of the first slot: 4 GiB. */
    static final long BASE_GPA = 1L << 32;

    private final long slotBytes;
    private final long[] sourceHva;
    private final long[] destHva;
    private final AtomicLongArray gpa;

    GuestLayout(int slots, long slotBytes) {
        this.slotBytes = slotBytes;
        this.sourceHva = new long[slots];
        this.destHva = new long[slots];
        this.gpa = new AtomicLongArray(slots);
        for (int i = 0; i < slots; i++) {
            gpa.set(i, BASE_GPA + i * slotBytes);
        }
    }

    int slots() {
        return sourceHva.length;
    }

    /** The memslot id of slot index {@code i}. */
    static int id(int i) {
        return i + 1;
    }

    /** The slot index of memslot id {@code id}, or -1. */
    int indexOf(int id) {
        int i = id - 1;
        return i >= 0 && i < slots() ? i : -1;
    }

    long slotBytes() {
        return slotBytes;
    }

    long pagesPerSlot() {
        return slotBytes >>> PAGE_SHIFT;
    }

    long totalPages() {
        return pagesPerSlot() * slots();
    }

    long gpa(int i) {
        return gpa.get(i);
    }

    /** The first guest-physical address above every slot. */
    long top() {
        long top = 0;
        for (int i = 0; i < slots(); i++) {
            top = Math.max(top, gpa(i) + slotBytes);
        }
        return top;
    }

    void moved(int i, long newGpa) {
        gpa.set(i, newGpa);
    }

    long sourceHva(int i) {
        return sourceHva[i];
    }

    long destHva(int i) {
        return destHva[i];
    }

    void setSourceHva(int i, long hva) {
        sourceHva[i] = hva;
    }

    void setDestHva(int i, long hva) {
        destHva[i] = hva;
    }
}
