package dev.guestmem.memslot;

import dev.guestmem.sync.Srcu;

/**
 * The scalable memslot design (spec §2): per address space two {@link TreeMemslotSet}s holding the same
 * slot objects and a published pointer to the active one. An install edits the inactive set,
 * publishes it, waits for the readers of the old one and then replays the edit there, so each update
 * costs O(log n) and no copy of the whole set.
 */
final class TreeMemslotStore implements MemslotStore {
    /** The two sets of one address space ({@code __memslots[as]}) and the active pointer. */
    private static final class AddressSpace {
        private final TreeMemslotSet first;
        private final TreeMemslotSet second;
        volatile TreeMemslotSet active;

        AddressSpace(int asId) {
            // kvm_create_vm: both sets start empty with generation = as id; the first one is active.
            first = new TreeMemslotSet(asId, asId);
            second = new TreeMemslotSet(asId, asId);
            active = first;
        }

        TreeMemslotSet inactive(TreeMemslotSet current) {
            return current == first ? second : first;
        }
    }

    private final SetPublisher publisher;
    private final AddressSpace[] spaces;

    TreeMemslotStore(int addressSpaces, Srcu srcu, PublishBarrier barrier) {
        this.publisher = new SetPublisher(addressSpaces, srcu, barrier);
        this.spaces = new AddressSpace[addressSpaces];
        for (int as = 0; as < addressSpaces; as++) {
            spaces[as] = new AddressSpace(as);
        }
    }

    @Override
    public int addressSpaces() {
        return spaces.length;
    }

    @Override
    public MemslotSet active(int asId) {
        return spaces[asId].active;
    }

    /** Spec §2.5/§2.6: edit the inactive set, swap, then make the old set hold the same objects. */
    @Override
    public synchronized void install(int asId, int id, Memslot next) {
        AddressSpace space = spaces[asId];
        TreeMemslotSet current = space.active;
        TreeMemslotSet incoming = space.inactive(current);
        Memslot old = InstallChecks.oldSlot(current, id, next);
        incoming.replace(old, next);
        publisher.swap(current, incoming,
                () -> space.active = incoming,
                () -> incoming.replace(next, old),
                () -> current.replace(old, next));
    }

    @Override
    public MemslotImpl impl() {
        return MemslotImpl.TREE;
    }

    /** Checks every set's indexes and that both sets of an address space hold the same slots (for tests). */
    synchronized void checkInvariants() {
        for (AddressSpace space : spaces) {
            space.first.checkInvariants();
            space.second.checkInvariants();
            var a = space.first.all().iterator();
            var b = space.second.all().iterator();
            while (a.hasNext() && b.hasNext()) {
                if (a.next() != b.next()) {
                    throw new IllegalStateException("the two sets hold different slots");
                }
            }
            if (a.hasNext() || b.hasNext()) {
                throw new IllegalStateException("the two sets hold different numbers of slots");
            }
        }
    }
}
