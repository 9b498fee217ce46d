package dev.guestmem.kvm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Writes the contents of the reserved memslot ({@link ReservedLayout}): the access stubs and loops, the GDT
 * and the page tables. Everything is at the address the layout gives it, relative to the slot's first
 * byte.
 */
final class GuestImage {
    /*
     * The stubs, hand-assembled. rdi = gpa, rsi = value to store, rbx = doorbell gpa (all set by
     * KVM_SET_REGS). The doorbell store makes the end of the access an MMIO exit at a known address;
     * for a load it carries the loaded value too, but the backend reads rax, the load's own result.
     * ud2 after the doorbell is never reached in normal operation: the backend completes the doorbell
     * with immediate_exit and sets new registers. Should the guest ever run on, ud2 raises #UD, which
     * with an empty IDT escalates to a triple fault: a shutdown exit, never a silent wrong result.
     */
    private static final byte[] STORE_STUB = {
        0x48, (byte) 0x89, 0x37, // mov [rdi], rsi
        0x48, (byte) 0x89, 0x03, // mov [rbx], rax
        0x0F, 0x0B,              // ud2
    };
    private static final byte[] LOAD_STUB = {
        0x48, (byte) 0x8B, 0x07, // mov rax, [rdi]
        0x48, (byte) 0x89, 0x03, // mov [rbx], rax
        0x0F, 0x0B,              // ud2
    };

    /**
     * The strided store loop: rcx stores of rsi, from rdi on, rdx bytes apart (rcx >= 1), then the
     * doorbell. The backend stops it at the first store that exits, so it never runs past one.
     */
    private static final byte[] FILL_STUB = {
        0x48, (byte) 0x89, 0x37,       // loop: mov [rdi], rsi
        0x48, 0x01, (byte) 0xD7,       //       add rdi, rdx
        0x48, (byte) 0xFF, (byte) 0xC9, //       dec rcx
        0x75, (byte) 0xF5,             //       jnz loop
        0x48, (byte) 0x89, 0x03,       // mov [rbx], rax
        0x0F, 0x0B,                    // ud2
    };

    /**
     * The strided take loop: for rcx words from rdi on, rdx bytes apart, each must equal rsi and is then
     * cleared; it stops at the first that differs. The doorbell store carries rcx, the words not taken.
     */
    private static final byte[] TAKE_STUB = {
        0x48, (byte) 0x8B, 0x07,                         // loop: mov rax, [rdi]
        0x48, 0x39, (byte) 0xF0,                         //       cmp rax, rsi
        0x75, 0x0F,                                      //       jne done
        0x48, (byte) 0xC7, 0x07, 0x00, 0x00, 0x00, 0x00, //       mov qword [rdi], 0
        0x48, 0x01, (byte) 0xD7,                         //       add rdi, rdx
        0x48, (byte) 0xFF, (byte) 0xC9,                  //       dec rcx
        0x75, (byte) 0xE9,                               //       jnz loop
        0x48, (byte) 0x89, 0x0B,                         // done: mov [rbx], rcx
        0x0F, 0x0B,                                      // ud2
    };

    /** Long-mode code segment, DPL 3, present, L=1 (D must be 0), execute/read, granularity 4 KiB. */
    private static final long USER_CODE_DESCRIPTOR = 0x00AFFA000000FFFFL;
    /** Data segment, DPL 3, present, read/write, 32-bit default, granularity 4 KiB. */
    private static final long USER_DATA_DESCRIPTOR = 0x00CFF2000000FFFFL;

    private static final long PRESENT = 1;
    private static final long WRITABLE = 1 << 1;
    /** U/S at every level: the stub runs at CPL3, and a supervisor bit anywhere on the walk would fault. */
    private static final long USER = 1 << 2;
    private static final long ACCESSED = 1 << 5;
    /**
     * D, preset on every 2 MiB page. Where KVM shadows the guest page tables (as on these machines),
     * a page whose guest PTE is not yet dirty is mapped read-only on a read fault, so that the guest's
     * first write can set D; the kernel-recorded traces expect a read of a host-writable page to map
     * it writable (and, under dirty logging, to log it), which needs D already set.
     */
    private static final long DIRTY = 1 << 6;
    /** PS in a page-directory entry: a 2 MiB page. (1 GiB pages fail on these machines.) */
    private static final long LARGE_PAGE = 1 << 7;
    /** A preset: the CPU never has to write the tables back while walking them. */
    private static final long TABLE_FLAGS = PRESENT | WRITABLE | USER | ACCESSED;
    private static final long LARGE_PAGE_SIZE = 1L << 21;
    private static final int ENTRIES = 512;
    private static final int GIGABYTES = (int) (ReservedLayout.IDENTITY_MAP_END >>> 30);

    private GuestImage() {
    }

    /** Fills {@code slot}, which must be {@link ReservedLayout#SIZE} bytes and zeroed. */
    static void write(MemorySegment slot) {
        if (slot.byteSize() != ReservedLayout.SIZE) {
            throw new IllegalArgumentException("reserved slot image is " + ReservedLayout.SIZE + " bytes");
        }
        MemorySegment.copy(STORE_STUB, 0, slot, ValueLayout.JAVA_BYTE, at(ReservedLayout.STORE_ENTRY), STORE_STUB.length);
        MemorySegment.copy(LOAD_STUB, 0, slot, ValueLayout.JAVA_BYTE, at(ReservedLayout.LOAD_ENTRY), LOAD_STUB.length);
        MemorySegment.copy(FILL_STUB, 0, slot, ValueLayout.JAVA_BYTE, at(ReservedLayout.FILL_ENTRY), FILL_STUB.length);
        MemorySegment.copy(TAKE_STUB, 0, slot, ValueLayout.JAVA_BYTE, at(ReservedLayout.TAKE_ENTRY), TAKE_STUB.length);

        long gdt = at(ReservedLayout.GDT);
        slot.set(ValueLayout.JAVA_LONG, gdt + (ReservedLayout.USER_CODE_SELECTOR & ~7), USER_CODE_DESCRIPTOR);
        slot.set(ValueLayout.JAVA_LONG, gdt + (ReservedLayout.USER_DATA_SELECTOR & ~7), USER_DATA_DESCRIPTOR);

        slot.set(ValueLayout.JAVA_LONG, at(ReservedLayout.PML4), ReservedLayout.PDPT | TABLE_FLAGS);
        for (int gib = 0; gib < GIGABYTES; gib++) {
            long directory = ReservedLayout.PAGE_DIRECTORIES + (long) gib * 4096;
            slot.set(ValueLayout.JAVA_LONG, at(ReservedLayout.PDPT) + gib * 8L, directory | TABLE_FLAGS);
            for (int i = 0; i < ENTRIES; i++) {
                long physical = ((long) gib * ENTRIES + i) * LARGE_PAGE_SIZE;
                slot.set(ValueLayout.JAVA_LONG, at(directory) + i * 8L, physical | TABLE_FLAGS | DIRTY | LARGE_PAGE);
            }
        }
    }

    /** Offset in the slot of reserved gpa {@code gpa}. */
    private static long at(long gpa) {
        return gpa - ReservedLayout.BASE;
    }
}
