package dev.guestmem.vm;

import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.mmu.MmuOptions;
import java.util.Objects;

/**
 * How an engine VM is built: its type, the memslot design, whether the modelled host KVM has SMM
 * support ({@code CONFIG_KVM_SMM}, which gives x86 VMs without private memory a second address space),
 * and the MMU's test knobs. The default, {@code smm = false}, matches the reference kernel of these
 * machines, whose answers the traces record; {@code smm = true} models an upstream x86 build.
 * {@link MmuOptions#DEFAULT} is the MMU every real VM has; other options (schedule points, fault
 * injection) are for race tests only.
 */
public record VmConfig(VmType type, MemslotImpl impl, boolean smm, MmuOptions mmu) {
    public VmConfig {
        Objects.requireNonNull(mmu, "mmu");
    }

    /** A VM with the default MMU. */
    public VmConfig(VmType type, MemslotImpl impl, boolean smm) {
        this(type, impl, smm, MmuOptions.DEFAULT);
    }

    /** A VM like the reference kernel's: no SMM address space. */
    public static VmConfig of(VmType type, MemslotImpl impl) {
        return new VmConfig(type, impl, false);
    }

    /** The same VM on a host KVM with SMM support. */
    public VmConfig withSmm() {
        return new VmConfig(type, impl, true, mmu);
    }

    /** The same VM with MMU test options {@code options} (race tests only). */
    public VmConfig withMmu(MmuOptions options) {
        return new VmConfig(type, impl, smm, options);
    }

    /** Number of memslot address spaces ({@code kvm_arch_nr_memslot_as_ids}). */
    public int addressSpaces() {
        return type.addressSpaces(smm);
    }
}
