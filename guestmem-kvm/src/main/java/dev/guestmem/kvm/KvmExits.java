package dev.guestmem.kvm;

/** {@code kvm_run.exit_reason} values the backend meets, and their names for messages. */
final class KvmExits {
    static final int UNKNOWN = 0;
    static final int EXCEPTION = 1;
    static final int IO = 2;
    static final int HLT = 5;
    static final int MMIO = 6;
    static final int SHUTDOWN = 8;
    static final int FAIL_ENTRY = 9;
    static final int INTR = 10;
    static final int INTERNAL_ERROR = 17;
    static final int DIRTY_RING_FULL = 31;
    static final int MEMORY_FAULT = 39;
    /** {@code KVM_MEMORY_EXIT_FLAG_PRIVATE} in {@code kvm_run.memory_fault.flags}. */
    static final long MEMORY_EXIT_FLAG_PRIVATE = 1L << 3;

    private KvmExits() {
    }

    /** {@code "KVM_EXIT_MMIO (6)"}, or just the number for reasons the backend never expects by name. */
    static String describe(int reason) {
        String name = switch (reason) {
            case UNKNOWN -> "KVM_EXIT_UNKNOWN";
            case EXCEPTION -> "KVM_EXIT_EXCEPTION";
            case IO -> "KVM_EXIT_IO";
            case HLT -> "KVM_EXIT_HLT";
            case MMIO -> "KVM_EXIT_MMIO";
            case SHUTDOWN -> "KVM_EXIT_SHUTDOWN";
            case FAIL_ENTRY -> "KVM_EXIT_FAIL_ENTRY";
            case INTR -> "KVM_EXIT_INTR";
            case INTERNAL_ERROR -> "KVM_EXIT_INTERNAL_ERROR";
            case DIRTY_RING_FULL -> "KVM_EXIT_DIRTY_RING_FULL";
            case MEMORY_FAULT -> "KVM_EXIT_MEMORY_FAULT";
            default -> "exit reason";
        };
        return name + " (" + reason + ")";
    }
}
