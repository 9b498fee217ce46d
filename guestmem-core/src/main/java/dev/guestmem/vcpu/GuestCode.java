package dev.guestmem.vcpu;

/**
 * Code a vCPU runs in guest mode ({@link dev.guestmem.vm.Vcpu#run}). It must keep making accesses, or
 * block only inside {@link Guest#idle}, so that TLB-flush kicks are noticed.
 */
@FunctionalInterface
public interface GuestCode {
    void run(Guest guest);
}
