package dev.guestmem.memslot;

import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * An iterator over slots that finds each next slot on demand: subclasses only say how to find the next
 * one ({@link #fetch}), this class does the {@code hasNext}/{@code next} bookkeeping.
 */
abstract class SlotLookahead implements Iterator<Memslot> {
    private Memslot next;
    private boolean fetched;

    /** The next slot of the walk, or {@code null} when the walk is over. */
    abstract Memslot fetch();

    @Override
    public final boolean hasNext() {
        if (!fetched) {
            next = fetch();
            fetched = true;
        }
        return next != null;
    }

    @Override
    public final Memslot next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        fetched = false;
        return next;
    }
}
