package dev.guestmem.memslot;

import java.util.Arrays;

/**
 * A node of a {@link GfnIndex}: up to {@link #CAPACITY} strictly ascending keys in a primitive array, with
 * one entry of payload per key in parallel arrays kept by the subclass. The methods here move keys and
 * payload together, so splitting, merging and borrowing are written once for both node kinds.
 *
 * @param <E> what one entry is made from: a slot in a leaf, a child node in an inner node
 */
abstract sealed class GfnNode<E> permits GfnNode.Leaf, GfnNode.Inner {
    /**
     * Keys per node: 48 longs are six cache lines, loaded in parallel by {@link #rank}; slots created in
     * ascending order fill leaves to 37, so 32 764 slots need three levels, where 32 keys needed four (a
     * miss there cost 10 to 15 % less in JMH, the same at 10 and 509 slots; 16 and 64 were slower at 509).
     */
    static final int CAPACITY = 48;
    /**
     * The fewest entries a node other than the root keeps. A quarter, not the textbook half, lets an
     * appending split leave the left node three quarters full (see {@link #insert}).
     */
    static final int MIN_FILL = CAPACITY / 4;

    final long[] keys = new long[CAPACITY];
    int count;

    /**
     * The number of keys at or below {@code key}, which must not be negative: so the entry covering
     * {@code key} is at {@code rank - 1}. A branch-free count over the used positions rather than a binary
     * search: the loads of a node's cache lines are independent and overlap, where a binary search waits
     * for one line before it knows the next, and nodes not in cache are what a lookup in a large set pays
     * for. (A branch-free binary search, and a count over all positions, were measured too: neither made
     * a chain of dependent lookups faster at 10, 509 or 32 764 slots.)
     */
    final int rank(long key) {
        long[] k = keys;
        int n = 0;
        for (int i = 0; i < count; i++) {
            // The sign bit of k - key - 1 is k <= key; no overflow, as keys are below 2^52 and key >= 0.
            n += (int) ((k[i] - key - 1) >>> 63);
        }
        return n;
    }

    /** Sets position {@code pos} (keys and payload) from {@code entry}. */
    abstract void set(int pos, E entry);

    /** A new empty node of the same kind, placed right after this one in key order. */
    abstract GfnNode<E> newRightSibling();

    /** Copies {@code n} payload entries from position {@code from} to position {@code at} of {@code to}. */
    abstract void copyPayload(int from, GfnNode<E> to, int at, int n);

    /**
     * Drops the payload of the unused positions {@code [from, to)}, so removed slots and nodes can be
     * collected. Unused keys are left as they are: nothing reads a key at or past {@link #count}.
     */
    abstract void clearPayload(int from, int to);

    /**
     * Puts {@code entry} at position {@code pos}. A full node splits first, and the new right sibling is
     * returned for the caller to link into the parent; otherwise {@code null}.
     *
     * <p>A split at the very end keeps the left node three quarters full instead of half: slots are
     * mostly created in ascending gfn order, and that would otherwise leave every node half empty.
     */
    final GfnNode<E> insert(int pos, E entry) {
        if (count < CAPACITY) {
            put(pos, entry);
            return null;
        }
        int leftSize = pos == CAPACITY ? CAPACITY + 1 - MIN_FILL : (CAPACITY + 1) / 2;
        GfnNode<E> right = newRightSibling();
        if (pos < leftSize) {
            moveTail(right, CAPACITY + 1 - leftSize);
            put(pos, entry);
        } else {
            moveTail(right, CAPACITY - leftSize);
            right.put(pos - leftSize, entry);
        }
        return right;
    }

    private void put(int pos, E entry) {
        move(this, pos, this, pos + 1, count - pos);
        count++;
        set(pos, entry);
    }

    /** Removes the entry at {@code pos}. */
    final void delete(int pos) {
        move(this, pos + 1, this, pos, count - pos - 1);
        count--;
        clearPayload(count, count + 1);
    }

    /** Moves the last {@code n} entries of this node to the front of {@code right}, its right neighbour. */
    final void moveTail(GfnNode<E> right, int n) {
        move(right, 0, right, n, right.count);
        move(this, count - n, right, 0, n);
        right.count += n;
        count -= n;
        clearPayload(count, count + n);
    }

    /** Moves the first {@code n} entries of {@code right}, its right neighbour, to the end of this node. */
    final void moveHead(GfnNode<E> right, int n) {
        move(right, 0, this, count, n);
        count += n;
        move(right, n, right, 0, right.count - n);
        right.count -= n;
        right.clearPayload(right.count, right.count + n);
    }

    /** Appends every entry of {@code right}, its right neighbour, which the caller then unlinks. */
    void absorb(GfnNode<E> right) {
        moveHead(right, right.count);
    }

    private static <E> void move(GfnNode<E> src, int from, GfnNode<E> dst, int at, int n) {
        System.arraycopy(src.keys, from, dst.keys, at, n);
        src.copyPayload(from, dst, at, n);
    }

    /** A leaf: the slots themselves, with their end gfns beside the base gfns so a hit reads no slot. */
    static final class Leaf extends GfnNode<Memslot> {
        final long[] ends = new long[CAPACITY];
        final Memslot[] slots = new Memslot[CAPACITY];
        /** The next leaf in key order, for range walks; {@code null} for the last. */
        Leaf next;

        @Override
        void set(int pos, Memslot slot) {
            keys[pos] = slot.baseGfn();
            ends[pos] = slot.endGfn();
            slots[pos] = slot;
        }

        @Override
        Leaf newRightSibling() {
            Leaf right = new Leaf();
            right.next = next;
            next = right;
            return right;
        }

        @Override
        void copyPayload(int from, GfnNode<Memslot> to, int at, int n) {
            Leaf dst = (Leaf) to;
            System.arraycopy(ends, from, dst.ends, at, n);
            System.arraycopy(slots, from, dst.slots, at, n);
        }

        @Override
        void clearPayload(int from, int to) {
            Arrays.fill(slots, from, to, null);
        }

        @Override
        void absorb(GfnNode<Memslot> right) {
            super.absorb(right);
            next = ((Leaf) right).next;
        }
    }

    /** An inner node: each key is the smallest key below its child, exactly, so a search needs no fallback. */
    static final class Inner extends GfnNode<GfnNode<?>> {
        final GfnNode<?>[] children = new GfnNode<?>[CAPACITY];

        @Override
        void set(int pos, GfnNode<?> child) {
            keys[pos] = child.keys[0];
            children[pos] = child;
        }

        @Override
        Inner newRightSibling() {
            return new Inner();
        }

        @Override
        void copyPayload(int from, GfnNode<GfnNode<?>> to, int at, int n) {
            System.arraycopy(children, from, ((Inner) to).children, at, n);
        }

        @Override
        void clearPayload(int from, int to) {
            Arrays.fill(children, from, to, null);
        }
    }
}
