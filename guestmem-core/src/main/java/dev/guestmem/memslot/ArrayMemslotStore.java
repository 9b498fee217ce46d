package dev.guestmem.memslot;

import dev.guestmem.sync.Srcu;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The pre-2021 memslot design, kept as the measured baseline: one published {@link ArrayMemslotSet}
 * per address space, replaced on every install by a full copy with the change applied. The old set
 * simply becomes garbage once the grace period has passed.
 */
final class ArrayMemslotStore implements MemslotStore {
    private final SetPublisher publisher;
    private final AtomicReferenceArray<ArrayMemslotSet> active;

    ArrayMemslotStore(int addressSpaces, Srcu srcu, PublishBarrier barrier) {
        this.publisher = new SetPublisher(addressSpaces, srcu, barrier);
        this.active = new AtomicReferenceArray<>(addressSpaces);
        for (int as = 0; as < addressSpaces; as++) {
            active.set(as, new ArrayMemslotSet(as, as));
        }
    }

    @Override
    public int addressSpaces() {
        return active.length();
    }

    @Override
    public MemslotSet active(int asId) {
        return active.get(asId);
    }

    /** {@code install_new_memslots} after {@code update_memslots}: copy, shift, swap (spec §2.4). */
    @Override
    public synchronized void install(int asId, int id, Memslot next) {
        ArrayMemslotSet current = active.get(asId);
        Memslot old = InstallChecks.oldSlot(current, id, next);
        ArrayMemslotSet incoming = current.withChange(old, next);
        // The copy is private until published, so neither undo nor replay has anything to do.
        publisher.swap(current, incoming, () -> active.set(asId, incoming), () -> { }, () -> { });
    }

    @Override
    public MemslotImpl impl() {
        return MemslotImpl.ARRAY;
    }

    /** Checks every active set's order and id table (for tests). */
    synchronized void checkInvariants() {
        for (int as = 0; as < active.length(); as++) {
            active.get(as).checkInvariants();
        }
    }
}
