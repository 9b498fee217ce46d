package dev.guestmem.bench;

import static dev.guestmem.memslot.KvmLimits.PAGE_SHIFT;
import static dev.guestmem.memslot.KvmLimits.USER_MEM_SLOTS;

import dev.guestmem.host.HostMemory;
import dev.guestmem.memslot.Memslot;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.memslot.MemslotStore;
import dev.guestmem.sync.Srcu;
import dev.guestmem.vm.EngineVm;
import dev.guestmem.vm.VmType;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One memslot change in a set of {@code slots} slots (memslot_perf_test layout, 4 pages each): slots
 * {@code 0 .. slots-2} stay, and the benchmarked slot has id {@code slots-1} and the highest gfn, so the set
 * holds {@code slots} slots while it is present and one id is always free for it ({@code slots = 32764} is
 * every user id, {@code KVM_CAP_NR_MEMSLOTS}).
 *
 * <p>{@code store*} drive {@link MemslotStore#install} the way the VM's update flow does (spec §2.6), each
 * install with its SRCU grace period: CREATE is one install, DELETE and MOVE two (the INVALID copy, then the
 * result). {@code vm*} go through {@link EngineVm#setUserMemoryRegion} (all argument checks, overlap check,
 * INVALID step, commit); its host addresses are not mapped, which the region checks never look at.
 *
 * <p>{@code *Create} and {@code *Delete} restore the state between invocations with untimed
 * {@code Level.Invocation} fixtures; {@code *DeleteCreate} (delete, then create again) and
 * {@code *MoveThereAndBack} (to {@code MEM_TEST_MOVE_GPA_DEST} and back, as the move tests do) leave the
 * state as they found it and need no fixture, so they cross-check the fixture-timed figures.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class MemslotUpdateBenchmark {
    static final long PAGES = 4;

    /** Slot count (with the benchmarked slot) → id of the benchmarked slot. */
    static int opId(int slots) {
        if (slots < 1 || slots > USER_MEM_SLOTS) {
            throw new IllegalArgumentException("slots must be in 1.." + USER_MEM_SLOTS + ": " + slots);
        }
        return slots - 1;
    }

    /** A store holding the {@code slots - 1} fixed slots and, between invocations, the benchmarked one. */
    @State(Scope.Thread)
    public static class StoreState {
        @Param({"TREE", "ARRAY"})
        public MemslotImpl impl;

        @Param({"10", "509", "32764"})
        public int slots;

        MemslotStore store;
        int id;
        Memslot slot;
        Memslot moved;

        @Setup(Level.Trial)
        public void setUp() {
            store = Geometry.emptyStore(impl, new Srcu());
            id = opId(slots);
            Geometry.fill(store, id, PAGES);
            slot = Geometry.slot(id, PAGES);
            moved = new Memslot(0, id, Geometry.MOVE_DEST_GPA >>> PAGE_SHIFT, PAGES, 0, slot.userspaceAddr(), null);
            create();
        }

        boolean present() {
            return store.active(0).byId(id) != null;
        }

        void create() {
            store.install(0, id, slot);
        }

        void delete() {
            store.install(0, id, slot.invalidCopy());
            store.install(0, id, null);
        }

        @TearDown(Level.Trial)
        public void check() {
            // Invocation fixtures may have run once more after the last measured call: absent is fine too.
            Memslot s = store.active(0).byId(id);
            if (s != null && s != slot || store.active(0).size() != (s == null ? id : id + 1)) {
                throw new IllegalStateException("benchmarked slot ended as " + s + " in a set of "
                        + store.active(0).size());
            }
        }
    }

    /**
     * The store, with the benchmarked slot deleted before each invocation (untimed). The fixtures are
     * subclasses, not states depending on {@link StoreState}: JMH would give such a state its own instance.
     */
    @State(Scope.Thread)
    public static class StoreSlotAbsent extends StoreState {
        @Setup(Level.Invocation)
        public void absent() {
            if (present()) {
                delete();
            }
        }
    }

    /** The store, with the benchmarked slot created before each invocation (untimed). */
    @State(Scope.Thread)
    public static class StoreSlotPresent extends StoreState {
        @Setup(Level.Invocation)
        public void ensurePresent() {
            if (!present()) {
                create();
            }
        }
    }

    /** A fresh VM (default type) whose address space 0 holds the {@code slots - 1} fixed slots. */
    @State(Scope.Thread)
    public static class VmState {
        @Param({"TREE", "ARRAY"})
        public MemslotImpl impl;

        @Param({"10", "509", "32764"})
        public int slots;

        EngineVm vm;
        int id;
        long gpa;
        long size;
        long hva;
        /** OR of every return code of the measured calls: must stay 0. */
        int errors;

        @Setup(Level.Trial)
        public void setUp() {
            vm = new EngineVm(new HostMemory(), VmType.DEFAULT, impl);
            id = opId(slots);
            for (int i = 0; i < id; i++) {
                Memslot s = Geometry.slot(i, PAGES);
                check(vm.setUserMemoryRegion(i, 0, s.baseGfn() << PAGE_SHIFT, PAGES << PAGE_SHIFT, s.userspaceAddr()),
                        "create fixed slot " + i);
            }
            Memslot s = Geometry.slot(id, PAGES);
            gpa = s.baseGfn() << PAGE_SHIFT;
            size = PAGES << PAGE_SHIFT;
            hva = s.userspaceAddr();
            check(create(), "create slot " + id);
        }

        boolean present() {
            return vm.slot(id).isPresent();
        }

        int create() {
            return vm.setUserMemoryRegion(id, 0, gpa, size, hva);
        }

        int delete() {
            return vm.setUserMemoryRegion(id, 0, gpa, 0, hva);
        }

        int move(long to) {
            return vm.setUserMemoryRegion(id, 0, to, size, hva);
        }

        static void check(int rc, String what) {
            if (rc != 0) {
                throw new IllegalStateException(what + " failed with errno " + rc);
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            try {
                check(errors, "a measured call");
                if (vm.slot(id).map(i -> i.baseGfn() != gpa >>> PAGE_SHIFT).orElse(false)) {
                    throw new IllegalStateException("benchmarked slot ended as " + vm.slot(id));
                }
            } finally {
                vm.close();
                vm.host().close();
            }
        }
    }

    /** The VM, with the benchmarked slot deleted before each invocation (untimed). */
    @State(Scope.Thread)
    public static class VmSlotAbsent extends VmState {
        @Setup(Level.Invocation)
        public void absent() {
            if (present()) {
                check(delete(), "fixture delete");
            }
        }
    }

    /** The VM, with the benchmarked slot created before each invocation (untimed). */
    @State(Scope.Thread)
    public static class VmSlotPresent extends VmState {
        @Setup(Level.Invocation)
        public void ensurePresent() {
            if (!present()) {
                check(create(), "fixture create");
            }
        }
    }

    /** CREATE: one install. */
    @Benchmark
    public void storeCreate(StoreSlotAbsent s) {
        s.create();
    }

    /** DELETE: install the INVALID copy, then remove. */
    @Benchmark
    public void storeDelete(StoreSlotPresent s) {
        s.delete();
    }

    /** DELETE then CREATE again: three installs, no fixture. */
    @Benchmark
    public void storeDeleteCreate(StoreState s) {
        s.delete();
        s.create();
    }

    /** Two MOVEs (away to MOVE_DEST_GPA and back), each the INVALID copy and then the moved slot. */
    @Benchmark
    public void storeMoveThereAndBack(StoreState s) {
        s.store.install(0, s.id, s.slot.invalidCopy());
        s.store.install(0, s.id, s.moved);
        s.store.install(0, s.id, s.moved.invalidCopy());
        s.store.install(0, s.id, s.slot);
    }

    /** KVM_SET_USER_MEMORY_REGION creating the slot. */
    @Benchmark
    public void vmCreate(VmSlotAbsent s) {
        s.errors |= s.create();
    }

    /** KVM_SET_USER_MEMORY_REGION deleting the slot (size 0). */
    @Benchmark
    public void vmDelete(VmSlotPresent s) {
        s.errors |= s.delete();
    }

    /** Delete, then create again: two region calls, no fixture. */
    @Benchmark
    public void vmDeleteCreate(VmState s) {
        s.errors |= s.delete();
        s.errors |= s.create();
    }

    /** Two MOVE region calls, as one iteration of memslot_perf_test's move tests does. */
    @Benchmark
    public void vmMoveThereAndBack(VmState s) {
        s.errors |= s.move(Geometry.MOVE_DEST_GPA);
        s.errors |= s.move(s.gpa);
    }
}
