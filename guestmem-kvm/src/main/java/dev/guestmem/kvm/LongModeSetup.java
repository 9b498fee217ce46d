package dev.guestmem.kvm;

import static dev.guestmem.kvm.KvmLayouts.offset;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

/**
 * Puts a freshly created vCPU straight into 64-bit long mode at CPL3 with {@code KVM_SET_SREGS}:
 * paging on with the reserved page tables, ring-3 code and data segments from the reserved GDT. CPL3
 * because on these machines KVM emulates guest code running at CPL0 instruction by instruction, which
 * changes some exits; at CPL3 the stubs run natively. TR and LDT keep their reset values (nothing here
 * switches privilege, so no TSS is consulted).
 */
final class LongModeSetup {
    private static final StructLayout SREGS = KvmLayouts.SREGS;
    private static final StructLayout SEGMENT = KvmLayouts.SEGMENT;

    private static final long CR0_PE = 1L;
    private static final long CR0_ET = 1L << 4;
    private static final long CR0_WP = 1L << 16;
    private static final long CR0_PG = 1L << 31;
    private static final long CR4_PAE = 1L << 5;
    private static final long EFER_LME = 1L << 8;
    private static final long EFER_LMA = 1L << 10;
    /** Segment types (S=1): execute/read code, accessed; read/write data, accessed. */
    private static final byte CODE_TYPE = 0xB;
    private static final byte DATA_TYPE = 0x3;
    private static final int USER_PRIVILEGE = 3;

    private LongModeSetup() {
    }

    /** Reads the vCPU's reset state, switches it to CPL3 long mode, writes it back. */
    static void apply(int vcpuFd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sregs = arena.allocate(SREGS);
            KvmException.check(Syscalls.ioctl(vcpuFd, KvmIoctls.GET_SREGS, sregs), "KVM_GET_SREGS");
            segment(sregs, "cs", ReservedLayout.USER_CODE_SELECTOR, CODE_TYPE, true);
            for (String data : new String[] {"ds", "es", "fs", "gs", "ss"}) {
                segment(sregs, data, ReservedLayout.USER_DATA_SELECTOR, DATA_TYPE, false);
            }
            sregs.set(ValueLayout.JAVA_LONG, offset(SREGS, "gdt", "base"), ReservedLayout.GDT);
            sregs.set(ValueLayout.JAVA_SHORT, offset(SREGS, "gdt", "limit"), (short) ReservedLayout.GDT_LIMIT);
            // An empty IDT: any exception escalates to a triple fault (a shutdown exit) instead of
            // vectoring through whatever guest memory lies at the reset IDT base.
            sregs.set(ValueLayout.JAVA_LONG, offset(SREGS, "idt", "base"), 0L);
            sregs.set(ValueLayout.JAVA_SHORT, offset(SREGS, "idt", "limit"), (short) 0);
            sregs.set(ValueLayout.JAVA_LONG, offset(SREGS, "cr0"), CR0_PE | CR0_ET | CR0_WP | CR0_PG);
            sregs.set(ValueLayout.JAVA_LONG, offset(SREGS, "cr3"), ReservedLayout.PML4);
            sregs.set(ValueLayout.JAVA_LONG, offset(SREGS, "cr4"), CR4_PAE);
            sregs.set(ValueLayout.JAVA_LONG, offset(SREGS, "efer"), EFER_LME | EFER_LMA);
            KvmException.check(Syscalls.ioctl(vcpuFd, KvmIoctls.SET_SREGS, sregs), "KVM_SET_SREGS");
        }
    }

    /** A flat ring-3 segment matching its GDT descriptor ({@link GuestImage}). */
    private static void segment(MemorySegment sregs, String name, int selector, byte type, boolean code) {
        long base = offset(SREGS, name);
        sregs.set(ValueLayout.JAVA_LONG, base + offset(SEGMENT, "base"), 0L);
        sregs.set(ValueLayout.JAVA_INT, base + offset(SEGMENT, "limit"), 0xFFFFFFFF);
        sregs.set(ValueLayout.JAVA_SHORT, base + offset(SEGMENT, "selector"), (short) selector);
        sregs.set(ValueLayout.JAVA_BYTE, base + offset(SEGMENT, "type"), type);
        sregs.set(ValueLayout.JAVA_BYTE, base + offset(SEGMENT, "present"), (byte) 1);
        sregs.set(ValueLayout.JAVA_BYTE, base + offset(SEGMENT, "dpl"), (byte) USER_PRIVILEGE);
        // Long-mode code needs L=1 and D=0; data segments are 32-bit default (D/B=1).
        sregs.set(ValueLayout.JAVA_BYTE, base + offset(SEGMENT, "db"), (byte) (code ? 0 : 1));
        sregs.set(ValueLayout.JAVA_BYTE, base + offset(SEGMENT, "s"), (byte) 1);
        sregs.set(ValueLayout.JAVA_BYTE, base + offset(SEGMENT, "l"), (byte) (code ? 1 : 0));
        sregs.set(ValueLayout.JAVA_BYTE, base + offset(SEGMENT, "g"), (byte) 1);
        sregs.set(ValueLayout.JAVA_BYTE, base + offset(SEGMENT, "avl"), (byte) 0);
        sregs.set(ValueLayout.JAVA_BYTE, base + offset(SEGMENT, "unusable"), (byte) 0);
    }

}
