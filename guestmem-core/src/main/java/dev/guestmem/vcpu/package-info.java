/**
 * vCPUs of the engine: each has a direct-mapped software TLB of 4 KiB translations and a
 * paging-structure cache, filled by a modelled hardware walk with A/D assists; guest accesses touch host
 * memory through one global segment at the address a live TLB entry holds. Remote TLB flushes reach a
 * vCPU through request bits and kicks with the kernel's Dekker handshake and wait for it to leave guest
 * mode ({@link dev.guestmem.vcpu.VcpuSet}). Why an access can never touch memory it must not is proven
 * in {@link dev.guestmem.vcpu.MmuVcpu}. Guest code runs on a vCPU's own thread
 * ({@link dev.guestmem.vcpu.VcpuThread}) and must keep making accesses, or block only inside
 * {@link dev.guestmem.vcpu.Guest#idle}.
 */
package dev.guestmem.vcpu;
