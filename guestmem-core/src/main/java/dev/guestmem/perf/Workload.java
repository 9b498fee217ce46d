package dev.guestmem.perf;

import dev.guestmem.vcpu.GuestCode;

/** One memslot_perf_test workload: the guest loop a vCPU runs and one iteration of the host loop. */
public interface Workload {
    /** The guest side; it starts with {@link SyncFlag#guestStarted} and returns once asked to exit. */
    GuestCode guest();

    /** One host iteration, run on the calling thread while the guest runs. */
    void hostLoop();

    /** The workload of {@code test} on {@code vm}, synchronised through {@code sync}. */
    static Workload of(PerfTest test, PerfVm vm, SyncFlag sync) {
        return switch (test) {
            case MAP -> new MapWorkload(vm, sync);
            case UNMAP -> new UnmapWorkload(vm, sync, 1);
            case UNMAP_CHUNKED -> new UnmapWorkload(vm, sync, UnmapWorkload.CHUNK_PAGES);
            case MOVE_ACTIVE -> new MoveWorkload(vm, sync, true);
            case MOVE_INACTIVE -> new MoveWorkload(vm, sync, false);
            case RW -> new RwWorkload(vm, sync);
            case SETUP -> throw new IllegalArgumentException("setup has no loops");
        };
    }
}
