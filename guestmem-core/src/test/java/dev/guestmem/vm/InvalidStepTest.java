package dev.guestmem.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.Errno;
import dev.guestmem.memslot.Memslot;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.memslot.MemslotStore;
import dev.guestmem.memslot.PublishBarrier;
import dev.guestmem.sync.Srcu;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * KMS-18: DELETE and MOVE publish an INVALID copy first, and the architecture zaps the old slot while
 * that copy is what vCPUs see; a failed prepare puts the old slot back (spec §2.6).
 */
class InvalidStepTest {
    private static final long GPA = 0xC0000000L;
    private static final long HVA = 0x7f0000000000L;

    private final Srcu srcu = new Srcu();
    private final List<String> events = new ArrayList<>();

    private MemslotStore store;

    private MemoryRegionUpdater updater(MemslotImpl impl, MemslotUpdateHooks hooks) {
        store = impl.create(2, srcu, PublishBarrier.NONE);
        return new MemoryRegionUpdater(this, VmType.DEFAULT, store, new FileTable(), hooks);
    }

    /** Records every hook call, and what a vCPU and the active set show while the old slot is zapped. */
    private final class RecordingHooks implements MemslotUpdateHooks {
        int prepareErrno;

        @Override
        public void invalidated(Memslot old) {
            Memslot published = store.active(0).byId(old.id());
            assertTrue(published.isInvalid(), "the INVALID copy is published before the zap");
            assertEquals(old.baseGfn(), published.baseGfn());
            // Lookups still find it; faults on it retry until the update ends (the MMU's tests show that).
            assertSame(published, store.active(0).lookup(GPA >>> 12), "lookups still find it");
            events.add("invalidated " + old.id());
        }

        @Override
        public int prepare(Memslot old, Memslot next, MemslotChange change) {
            events.add("prepare " + change);
            return prepareErrno;
        }

        @Override
        public void commit(Memslot old, Memslot next, MemslotChange change) {
            events.add("commit " + change);
        }
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void deleteAndMoveGoThroughTheInvalidCopy(MemslotImpl impl) {
        RecordingHooks hooks = new RecordingHooks();
        MemoryRegionUpdater updater = updater(impl, hooks);
        assertEquals(0, updater.apply(RegionRequest.v1(1, 0, GPA, 0x200000, HVA)));
        assertEquals(0, updater.apply(RegionRequest.v1(1, 1, GPA, 0x200000, HVA)));
        assertEquals(0, updater.apply(RegionRequest.v1(1, 0, GPA - 0x1000, 0x200000, HVA)));
        assertEquals(0, updater.apply(RegionRequest.v1(1, 0, GPA, 0, 0)));
        assertEquals(List.of("prepare CREATE", "commit CREATE", "prepare FLAGS_ONLY", "commit FLAGS_ONLY",
                "invalidated 1", "prepare MOVE", "commit MOVE", "invalidated 1", "prepare DELETE", "commit DELETE"),
                events);
        assertNull(store.active(0).byId(1));
    }

    @ParameterizedTest
    @EnumSource(MemslotImpl.class)
    void aFailedPrepareRestoresTheOldSlot(MemslotImpl impl) {
        RecordingHooks hooks = new RecordingHooks();
        MemoryRegionUpdater updater = updater(impl, hooks);
        assertEquals(0, updater.apply(RegionRequest.v1(1, 0, GPA, 0x200000, HVA)));
        Memslot old = store.active(0).byId(1);
        hooks.prepareErrno = Errno.ENOMEM;
        long generation = store.active(0).generation();
        assertEquals(Errno.ENOMEM, updater.apply(RegionRequest.v1(1, 0, GPA + 0x200000, 0x200000, HVA)));
        assertSame(old, store.active(0).byId(1), "the old slot object is back");
        assertEquals(generation + 4, store.active(0).generation(), "INVALID publish, then the swap back");
        assertEquals(Errno.ENOMEM, updater.apply(RegionRequest.v1(2, 0, 0, 0x1000, HVA)));
        assertNull(store.active(0).byId(2), "a failed CREATE publishes nothing");
        assertEquals(generation + 4, store.active(0).generation());
    }
}
