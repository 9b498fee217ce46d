package dev.guestmem.gmem;

import static dev.guestmem.gmem.MemoryAttributes.PRIVATE;
import static dev.guestmem.memslot.KvmLimits.PAGE_SIZE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.memslot.MemslotFlags;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.vm.Access;
import dev.guestmem.vm.EngineVm;
import dev.guestmem.vm.Vcpu;
import dev.guestmem.vm.VmType;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * Guest accesses racing with hole punching, attribute conversions and the release of a guest_memfd:
 * every access sees one of the values that memory could hold (or the exit a concurrent change may
 * cause), the MMU's invariants hold, and above all the JVM survives, since the engine's view of a file
 * is unmapped only after a grace period that no access can straddle. Bounded by iteration counts, never
 * by time.
 */
class GmemConcurrencyTest {
    private static final long GPA = 1L << 32;
    private static final int PAGES = 32;
    private static final long MARK = 0x5A5A;
    private static final int ROUNDS = 200;

    /** Passes over all pages completed by the readers, so the writer can wait for them to interleave. */
    private final AtomicLong passes = new AtomicLong();

    /** Runs {@code readers} vCPU threads reading every page until {@code stop}; collects bad outcomes. */
    private List<Thread> startReaders(EngineVm vm, int readers, AtomicBoolean stop,
            Predicate<Access> allowed, ConcurrentLinkedQueue<String> bad) {
        List<Thread> threads = new ArrayList<>();
        for (int r = 0; r < readers; r++) {
            Vcpu cpu = vm.vcpu(r);
            threads.add(Thread.ofPlatform().start(() -> {
                while (!stop.get()) {
                    for (int page = 0; page < PAGES; page++) {
                        Access a = cpu.read64(GPA + page * PAGE_SIZE);
                        if (!allowed.test(a)) {
                            bad.add("page " + page + ": " + a);
                        }
                    }
                    passes.incrementAndGet();
                }
            }));
        }
        return threads;
    }

    /** Waits until some reader has finished a pass that started after this call (progress, not time). */
    private void awaitAReaderPass() {
        long target = passes.get() + 2;
        while (passes.get() < target) {
            Thread.onSpinWait();
        }
    }

    private static void stopAll(AtomicBoolean stop, List<Thread> threads) throws InterruptedException {
        stop.set(true);
        for (Thread t : threads) {
            t.join(30_000);
            assertFalse(t.isAlive(), "a reader is stuck");
        }
    }

    @Test
    void punchingAndClosingWhileGuestsReadAGmemOnlySlot() throws InterruptedException {
        try (EngineVm vm = EngineVm.create(VmType.DEFAULT, MemslotImpl.TREE)) {
            int fd = vm.createGuestMemfd(PAGES * PAGE_SIZE, GuestMemfd.FLAG_MMAP | GuestMemfd.FLAG_INIT_SHARED);
            assertTrue(fd >= 0);
            assertEquals(0, vm.setUserMemoryRegion2(1, MemslotFlags.GUEST_MEMFD, GPA, PAGES * PAGE_SIZE, 0, fd, 0));
            long hva = vm.mmap(fd, PAGES * PAGE_SIZE, true);
            ConcurrentLinkedQueue<String> bad = new ConcurrentLinkedQueue<>();
            // Before the close: the mark or a punched zero; after it (and racing with it): the exit.
            Predicate<Access> allowed = a -> a.equals(new Access.Value(MARK)) || a.equals(new Access.Value(0))
                    || a instanceof Access.MemoryFault f && !f.isPrivate();
            AtomicBoolean stop = new AtomicBoolean();
            List<Thread> readers = startReaders(vm, 2, stop, allowed, bad);
            Random random = new Random(7);
            for (int round = 0; round < ROUNDS; round++) {
                int page = random.nextInt(PAGES);
                vm.host().write64(hva + page * PAGE_SIZE, MARK);
                int first = random.nextInt(PAGES);
                assertEquals(0, vm.fallocate(fd, Fallocate.KEEP_SIZE | Fallocate.PUNCH_HOLE, first * PAGE_SIZE,
                        (1 + random.nextInt(PAGES - first)) * PAGE_SIZE));
                awaitAReaderPass();
            }
            assertEquals(0, vm.close(fd));
            awaitAReaderPass();
            stopAll(stop, readers);
            assertEquals(List.of(), List.copyOf(bad));
            assertEquals(new Access.MemoryFault(GPA, PAGE_SIZE, false), vm.vcpu(0).read64(GPA));
            assertEquals(List.of(), vm.mmu().invariants().violations());
        }
    }

    @Test
    void convertingBetweenPrivateAndSharedWhileGuestsRead() throws InterruptedException {
        try (EngineVm vm = EngineVm.create(VmType.SW_PROTECTED, MemslotImpl.TREE)) {
            int fd = vm.createGuestMemfd(PAGES * PAGE_SIZE, 0);
            long hva = vm.host().mmap(PAGES * PAGE_SIZE);
            for (int page = 0; page < PAGES; page++) {
                vm.host().write64(hva + page * PAGE_SIZE, MARK);
            }
            assertEquals(0, vm.setUserMemoryRegion2(1, MemslotFlags.GUEST_MEMFD, GPA, PAGES * PAGE_SIZE, hva, fd, 0));
            ConcurrentLinkedQueue<String> bad = new ConcurrentLinkedQueue<>();
            // Shared pages hold the mark, private ones zeros; a conversion racing with a fault may exit.
            Predicate<Access> allowed = a -> a.equals(new Access.Value(MARK)) || a.equals(new Access.Value(0))
                    || a instanceof Access.MemoryFault;
            AtomicBoolean stop = new AtomicBoolean();
            List<Thread> readers = startReaders(vm, 2, stop, allowed, bad);
            Random random = new Random(11);
            for (int round = 0; round < ROUNDS; round++) {
                int first = random.nextInt(PAGES);
                int count = 1 + random.nextInt(PAGES - first);
                assertEquals(0, vm.setMemoryAttributes(GPA + first * PAGE_SIZE, count * PAGE_SIZE,
                        random.nextBoolean() ? PRIVATE : 0, 0));
                awaitAReaderPass();
            }
            assertEquals(0, vm.setMemoryAttributes(GPA, PAGES * PAGE_SIZE, 0, 0));
            stopAll(stop, readers);
            assertEquals(List.of(), List.copyOf(bad));
            for (int page = 0; page < PAGES; page++) {
                assertEquals(new Access.Value(MARK), vm.vcpu(0).read64(GPA + page * PAGE_SIZE), "all shared again");
            }
            assertEquals(List.of(), vm.mmu().invariants().violations());
            assertEquals(0, vm.close(fd));
        }
    }
}
