package dev.guestmem.kvm;

import dev.guestmem.host.HostMemory;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.trace.VmFactory;
import dev.guestmem.vm.Vm;
import dev.guestmem.vm.VmType;

/**
 * Creates {@link KvmVm}s for the trace replayer. The memslot design is the engine's choice and means
 * nothing to the kernel, so it is ignored.
 */
public final class KvmVmFactory implements VmFactory {
    @Override
    public Vm create(HostMemory host, VmType type, MemslotImpl impl) {
        return new KvmVm(host, type);
    }
}
