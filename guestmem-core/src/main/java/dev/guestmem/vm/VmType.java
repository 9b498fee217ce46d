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

    /**
     * {@code kvm_arch_nr_memslot_as_ids}: 2 when the host KVM has SMM support and the VM has no private
     * memory, else 1. The reference kernel of these machines is built without SMM (its
     * {@code KVM_CAP_MULTI_ADDRESS_SPACE} is 0), so traces see one address space.
     */
    public int addressSpaces(boolean smm) {
        return smm && !hasPrivateMemory() ? 2 : 1;
    }

    /** {@code kvm_arch_has_readonly_mem}: VMs without protected state (both types here). */
    public boolean supportsReadOnlyMemory() {
        return true;
    }
}
