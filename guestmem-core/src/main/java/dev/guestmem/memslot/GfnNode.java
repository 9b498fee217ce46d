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
     * Keys per node: six groups of {@link #GROUP}. Slots created in ascending order fill leaves to 37, so
     * 32 764 slots need three levels, where 32 keys needed four (a miss there cost 10 to 15 % less in JMH,
     * the same at 10 and 509 slots; 16 and 64 were slower at 509). {@link #rank} depends on six groups.
     */
    static final int CAPACITY = 48;
    /**
     * The fewest entries a node other than the root keeps. A quarter, not the textbook half, lets an
     * appending split leave the left node three quarters full (see {@link #insert}).
     */
    static final int MIN_FILL = CAPACITY / 4;

    /** Keys per group: {@link #rank} picks one group by its samples, then counts inside it. */
    static final int GROUP = 8;
    /**
     * Longs per row of {@link Inner#childSamples}: the five samples and three unused, so each row starts
     * 64 bytes after the previous one and stays within at most two cache lines.
     */
    static final int SAMPLE_ROW = 8;
    /** What an unused key position holds: above every key and every search key, so it is never counted. */
    static final long PAD = Long.MAX_VALUE;

    /** Strictly ascending in {@code [0, count)}, {@link #PAD} from {@code count} on. */
    final long[] keys = new long[CAPACITY];
    /**
     * The samples: the last key of each group but the last ({@code keys[GROUP * g + GROUP - 1]}), as fields
     * of the node object, which a search loads anyway, so choosing a group waits for no further load.
     */
    private long sample0 = PAD;
    private long sample1 = PAD;
    private long sample2 = PAD;
    private long sample3 = PAD;
    private long sample4 = PAD;
    int count;

    GfnNode() {
        Arrays.fill(keys, PAD);
    }

    /**
     * The number of keys at or below {@code key}, which must lie in {@code [0, PAD)}: so the entry covering
     * {@code key} is at {@code rank - 1}. Sorted keys make it two small counts: the samples at or below
     * {@code key} name the group where the keys stop being at or below it, and a count over that group's
     * eight keys (one or two cache lines) finishes. Thirteen comparisons, no branch and no loop whose length
     * depends on the node, so the cost is the same whatever the keys and whatever order the queries come in.
     *
     * <p>Measured in JMH at 32 764 slots (docs/performance.md, "The grouped rank"): a count over all used
     * keys cost about as much on a repeating sequence of gfns but half as much again on random gfns, where
     * its loop exits, which vary with the node, mispredict; a binary search ({@code Arrays.binarySearch})
     * was faster on the repeating sequence, whose branches the predictor learns, and slower on random gfns.
     */
    final int rank(long key) {
        return rank(sample0, sample1, sample2, sample3, sample4, keys, key);
    }

    /**
     * {@link #rank} of a node from its samples as copied into row {@code row} of {@code samples} (see
     * {@link Inner#childSamples}) and its {@code keys}: what a search does with a child, so that it need
     * not wait for the child object to arrive before it reads the child's keys.
     */
    static int rank(long[] samples, int row, long[] keys, long key) {
        int at = row * SAMPLE_ROW;
        return rank(samples[at], samples[at + 1], samples[at + 2], samples[at + 3], samples[at + 4], keys, key);
    }

    private static int rank(long s0, long s1, long s2, long s3, long s4, long[] k, long key) {
        int group = atOrBelow(s0, key) + atOrBelow(s1, key) + (atOrBelow(s2, key) + atOrBelow(s3, key))
                + atOrBelow(s4, key);
        int first = group * GROUP;
        // Two sums of four, so the additions form two short chains rather than one of eight.
        int low = 0;
        int high = 0;
        for (int i = 0; i < GROUP / 2; i++) {
            low += atOrBelow(k[first + i], key);
            high += atOrBelow(k[first + GROUP / 2 + i], key);
        }
        return first + low + high;
    }

    /** 1 if {@code k <= key}, else 0: the sign bit of {@code k - key - 1} (both in [0, 2^63): no overflow). */
    private static int atOrBelow(long k, long key) {
        return (int) ((k - key - 1) >>> 63);
    }

    /** Sets the key at {@code pos}, and the samples if it is one. */
    final void setKey(int pos, long key) {
        keys[pos] = key;
        if (pos % GROUP == GROUP - 1) {
            resample();
        }
    }

    /** Copies the samples to {@code row} of {@code to}, which {@link #rank(long[], int, long[], long)} reads. */
    final void copySamples(long[] to, int row) {
        int at = row * SAMPLE_ROW;
        to[at] = sample0;
        to[at + 1] = sample1;
        to[at + 2] = sample2;
        to[at + 3] = sample3;
        to[at + 4] = sample4;
    }

    /** Whether row {@code row} of {@code copies} holds the samples (for {@link GfnIndexChecker}). */
    final boolean samplesCopiedTo(long[] copies, int row) {
        int at = row * SAMPLE_ROW;
        return copies[at] == sample0 && copies[at + 1] == sample1 && copies[at + 2] == sample2
                && copies[at + 3] == sample3 && copies[at + 4] == sample4;
    }

    /** Whether the samples are the keys they stand for (for {@link GfnIndexChecker}). */
    final boolean samplesCurrent() {
        return sample0 == keys[GROUP - 1] && sample1 == keys[2 * GROUP - 1] && sample2 == keys[3 * GROUP - 1]
                && sample3 == keys[4 * GROUP - 1] && sample4 == keys[5 * GROUP - 1];
    }

    private void resample() {
        sample0 = keys[GROUP - 1];
        sample1 = keys[2 * GROUP - 1];
        sample2 = keys[3 * GROUP - 1];
        sample3 = keys[4 * GROUP - 1];
        sample4 = keys[5 * GROUP - 1];
    }

    /** Empties the unused positions {@code [from, to)}: padding keys, no payload. */
    private void vacate(int from, int to) {
        Arrays.fill(keys, from, to, PAD);
        resample();
        clearPayload(from, to);
    }

    /** Sets position {@code pos} (keys and payload) from {@code entry}. */
    abstract void set(int pos, E entry);

    /** A new empty node of the same kind, placed right after this one in key order. */
    abstract GfnNode<E> newRightSibling();

    /** Copies {@code n} payload entries from position {@code from} to position {@code at} of {@code to}. */
    abstract void copyPayload(int from, GfnNode<E> to, int at, int n);

    /** Drops the payload of the unused positions {@code [from, to)}, so removed slots and nodes can be collected. */
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
        vacate(count, count + 1);
    }

    /** Moves the last {@code n} entries of this node to the front of {@code right}, its right neighbour. */
    final void moveTail(GfnNode<E> right, int n) {
        move(right, 0, right, n, right.count);
        move(this, count - n, right, 0, n);
        right.count += n;
        count -= n;
        vacate(count, count + n);
    }

    /** Moves the first {@code n} entries of {@code right}, its right neighbour, to the end of this node. */
    final void moveHead(GfnNode<E> right, int n) {
        move(right, 0, this, count, n);
        count += n;
        move(right, n, right, 0, right.count - n);
        right.count -= n;
        right.vacate(right.count, right.count + n);
    }

    /** Appends every entry of {@code right}, its right neighbour, which the caller then unlinks. */
    void absorb(GfnNode<E> right) {
        moveHead(right, right.count);
    }

    private static <E> void move(GfnNode<E> src, int from, GfnNode<E> dst, int at, int n) {
        System.arraycopy(src.keys, from, dst.keys, at, n);
        dst.resample();
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
            setKey(pos, slot.baseGfn());
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

    /**
     * An inner node: each key is the smallest key below its child, exactly, so a search needs no fallback.
     * Beside each child it keeps that child's keys array and a copy of its samples: a search that has
     * chosen child {@code i} reads both from this node, which it has just read anyway, and so can load the
     * child's keys in parallel with the child object, rather than after it (three dependent loads a level
     * become two). {@link #set} refreshes them, and the index calls it for every child whose keys changed.
     */
    static final class Inner extends GfnNode<GfnNode<?>> {
        final GfnNode<?>[] children = new GfnNode<?>[CAPACITY];
        /** {@code children[i].keys}, or {@code null} past the end. */
        final long[][] childKeys = new long[CAPACITY][];
        /** Row {@code i}, {@link #SAMPLE_ROW} longs from {@code i * SAMPLE_ROW}: the samples of {@code children[i]}. */
        final long[] childSamples = new long[CAPACITY * SAMPLE_ROW];

        /** The rank of {@code key} in child {@code i}, read from this node's copies. */
        int childRank(int i, long key) {
            return rank(childSamples, i, childKeys[i], key);
        }

        /** Sets position {@code pos} to {@code child}, or, if it is already there, brings its copies up to date. */
        @Override
        void set(int pos, GfnNode<?> child) {
            setKey(pos, child.keys[0]);
            children[pos] = child;
            childKeys[pos] = child.keys;
            child.copySamples(childSamples, pos);
        }

        /** After child {@code pos}'s keys changed: its smallest key and its samples, again. */
        void refresh(int pos) {
            set(pos, children[pos]);
        }

        @Override
        Inner newRightSibling() {
            return new Inner();
        }

        @Override
        void copyPayload(int from, GfnNode<GfnNode<?>> to, int at, int n) {
            Inner dst = (Inner) to;
            System.arraycopy(children, from, dst.children, at, n);
            System.arraycopy(childKeys, from, dst.childKeys, at, n);
            System.arraycopy(childSamples, from * SAMPLE_ROW, dst.childSamples, at * SAMPLE_ROW, n * SAMPLE_ROW);
        }

        @Override
        void clearPayload(int from, int to) {
            Arrays.fill(children, from, to, null);
            Arrays.fill(childKeys, from, to, null);
        }
    }
}
