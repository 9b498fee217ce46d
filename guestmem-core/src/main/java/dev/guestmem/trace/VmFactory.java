package dev.guestmem.trace;

import dev.guestmem.host.HostMemory;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.vm.EngineVm;
import dev.guestmem.vm.Vm;
import dev.guestmem.vm.VmType;

/** Creates the VM a trace runs on, over a host address space the replayer owns. */
@FunctionalInterface
public interface VmFactory {
    /** A new VM of {@code type} backed by {@code host}, with memslots of design {@code impl}. */
    Vm create(HostMemory host, VmType type, MemslotImpl impl);

    /** The pure-Java engine, {@link EngineVm}. */
    static VmFactory engine() {
        return EngineVm::new;
    }
}
