package dev.guestmem.vm;

/** x86 VM types ({@code KVM_CREATE_VM} argument, api.rst 8.41) this project models. */
public enum VmType {
    /** {@code KVM_X86_DEFAULT_VM}: two address spaces (SMM), read-only memslots, no private memory. */
    DEFAULT(0),
    /** {@code KVM_X86_SW_PROTECTED_VM}: private memory through memory attributes, one address space. */
    SW_PROTECTED(1);

    private final int number;

    VmType(int number) {
        this.number = number;
    }

    /** The uAPI number. */
    public int number() {
        return number;
    }

    /** Whether the VM has private memory ({@code kvm_arch_has_private_mem}). */
    public boolean hasPrivateMemory() {
        return this == SW_PROTECTED;
    }

    /** {@code kvm_arch_nr_memslot_as_ids}: 1 with private memory (no SMM), else 2. */
    public int addressSpaces() {
        return hasPrivateMemory() ? 1 : 2;
    }

    /** {@code kvm_arch_has_readonly_mem}: VMs without protected state (both types here). */
    public boolean supportsReadOnlyMemory() {
        return true;
    }
}
