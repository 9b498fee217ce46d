package dev.guestmem.memslot;

import dev.guestmem.sync.Srcu;

/** PLACEHOLDER: being implemented. */
final class TreeMemslotStore implements MemslotStore {
    TreeMemslotStore(int addressSpaces, Srcu srcu, PublishBarrier barrier) {
        throw new UnsupportedOperationException();
    }

    @Override
    public int addressSpaces() {
        throw new UnsupportedOperationException();
    }

    @Override
    public MemslotSet active(int asId) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void install(int asId, int id, Memslot next) {
        throw new UnsupportedOperationException();
    }

    @Override
    public MemslotImpl impl() {
        throw new UnsupportedOperationException();
    }
}
