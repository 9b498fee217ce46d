/**
 * The real {@code /dev/kvm} backend behind the {@link dev.guestmem.vm.Vm} API, through the
 * foreign-function API: {@link dev.guestmem.kvm.KvmVm} issues the KVM ioctls and returns the kernel's
 * errno values; {@link dev.guestmem.kvm.KvmVcpu} performs guest loads and stores by running guest code.
 *
 * <h2>Reserved guest-physical resources</h2>
 * A guest access on real KVM needs guest code. The backend keeps for it (trace-format.md, "Reserved for
 * the reference runner"; details in {@link dev.guestmem.kvm.ReservedLayout} and
 * {@code docs/kvm-backend.md}):
 * <ul>
 *   <li>memslot id <b>32763</b> in address space 0, at guest-physical <b>0xFFE00000</b>, size 0x8000
 *       (0xFFE00000-0xFFE07FFF): two 8-byte access stubs, a GDT, and page tables that identity-map the
 *       low 4 GiB with 2 MiB pages, U/S set at every level;</li>
 *   <li>the doorbell <b>0xFFD00000</b>, in no memslot: each stub ends with a store there, so the end of
 *       an access is an MMIO exit at a known address;</li>
 *   <li>guest accesses are possible only below 4 GiB.</li>
 * </ul>
 * The reserved memslot is created by the first guest access of a VM, so a trace that never accesses
 * guest memory sees no slot it did not create. The stubs run in 64-bit mode at CPL3: on these machines
 * KVM emulates guest code running at CPL0 instruction by instruction, which changes some exits.
 */
package dev.guestmem.kvm;
