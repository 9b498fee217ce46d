package dev.guestmem.migrate;

import dev.guestmem.host.HostMemory;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.vm.EngineVm;
import dev.guestmem.vm.VmConfig;
import dev.guestmem.vm.VmType;

/**
 * The VM memory is migrated into: an engine VM with host memory of its own (another machine, as far as
 * the source can tell) and the same memslot layout, without logging. It does not run until the copy is
 * complete. With {@code prealloc} its memory is faulted in up front (zeros), as a VMM preallocating guest
 * RAM does, so that the copy does not pay the host's first-touch page faults.
 */
final class DestinationMachine implements AutoCloseable {
    private static final long CHUNK = 2L << 20;

    private final EngineVm vm;

    DestinationMachine(GuestLayout layout, boolean prealloc) {
        this.vm = EngineVm.create(VmConfig.of(VmType.DEFAULT, MemslotImpl.TREE));
        for (int i = 0; i < layout.slots(); i++) {
            long hva = SourceMachine.hugeAlignedMapping(vm.host(), layout.slotBytes());
            layout.setDestHva(i, hva);
            if (prealloc) {
                preallocate(hva, layout.slotBytes());
            }
            SourceMachine.check(vm.setUserMemoryRegion(GuestLayout.id(i), 0, layout.gpa(i), layout.slotBytes(), hva),
                    "destination slot");
        }
    }

    private void preallocate(long hva, long bytes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment zeros = arena.allocate(CHUNK, CHUNK);
            for (long at = 0; at < bytes; at += CHUNK) {
                vm.host().write(hva + at, zeros);
            }
        }
    }

    EngineVm vm() {
        return vm;
    }

    HostMemory host() {
        return vm.host();
    }

    @Override
    public void close() {
        vm.close();
    }
}
