package dev.guestmem.vm;

import dev.guestmem.memslot.MemslotImpl;

/**
 * How an engine VM is built: its type, the memslot design, and whether the modelled host KVM has SMM
 * support ({@code CONFIG_KVM_SMM}, which gives x86 VMs without private memory a second address space).
 * The default, {@code smm = false}, matches the reference kernel of these machines, whose answers the
 * traces record; {@code smm = true} models an upstream x86 build.
 */
public record VmConfig(VmType type, MemslotImpl impl, boolean smm) {
    /** A VM like the reference kernel's: no SMM address space. */
    public static VmConfig of(VmType type, MemslotImpl impl) {
        return new VmConfig(type, impl, false);
    }

    /** The same VM on a host KVM with SMM support. */
    public VmConfig withSmm() {
        return new VmConfig(type, impl, true);
    }

    /** Number of memslot address spaces ({@code kvm_arch_nr_memslot_as_ids}). */
    public int addressSpaces() {
        return type.addressSpaces(smm);
    }
}
