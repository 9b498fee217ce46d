package dev.guestmem.memslot;

import dev.guestmem.memslot.GfnNode.Inner;
import dev.guestmem.memslot.GfnNode.Leaf;
import java.util.Iterator;

/**
 * The gfn index of one memslot set (the kernel's {@code gfn_tree}): a B+-tree keyed by base gfn. Nodes
 * hold up to {@value GfnNode#CAPACITY} keys in a {@code long[]}; leaves hold the slots with their end
 * gfns, linked left to right for range walks; every inner key is the exact smallest base gfn below its
 * child. A lookup among 32 764 slots visits three nodes and reads one group of eight keys in each, where a
 * binary tree chases sixteen pointers: the lower levels of either do not fit in L2, so the number of
 * dependent loads is what a miss costs. For the same reason an inner node keeps a copy of each child's
 * samples and its keys array, so the search reads a child's keys without waiting for the child object.
 * Inserts and removals are O(log n), and memory follows the slots in use.
 *
 * <p>Only the writer edits an index, and only while its set is inactive, so nothing is synchronized;
 * readers of a published set see finished nodes because publication is a volatile store.
 *
 * <p>Keys compare signed: base gfns are below 2^52 ({@link InstallChecks#GFN_LIMIT}), where signed and
 * unsigned order agree. Query gfns may be any u64, so they are mapped by {@link #searchKey} first.
 */
final class GfnIndex {
    /** An empty leaf when the index is empty, never {@code null}. Package-private for tests. */
    GfnNode<?> root = new Leaf();
    /** Levels of inner nodes above the leaves. Package-private for tests. */
    int height;
    private int size;

    int size() {
        return size;
    }

    /**
     * Adds {@code slot}; no slot with the same base gfn may be present.
     *
     * @throws IllegalArgumentException if the base gfn is outside the gpa space
     */
    void insert(Memslot slot) {
        long base = slot.baseGfn();
        if (base < 0 || base >= InstallChecks.GFN_LIMIT) {
            throw new IllegalArgumentException("base gfn outside the gpa space: " + slot);
        }
        GfnNode<?> split = insert(root, height, slot);
        if (split != null) {
            Inner top = new Inner();
            top.insert(0, root);
            top.insert(1, split);
            root = top;
            height++;
        }
        size++;
    }

    /** Inserts below {@code node}, {@code level} levels above the leaves; returns its new sibling if it split. */
    private static GfnNode<?> insert(GfnNode<?> node, int level, Memslot slot) {
        long base = slot.baseGfn();
        int rank = node.rank(base);
        if (level == 0) {
            Leaf leaf = (Leaf) node;
            if (rank > 0 && leaf.keys[rank - 1] == base) {
                throw new IllegalStateException("duplicate base gfn in index: " + slot);
            }
            return leaf.insert(rank, slot);
        }
        Inner inner = (Inner) node;
        int i = Math.max(rank - 1, 0);
        GfnNode<?> child = inner.children[i];
        GfnNode<?> split = insert(child, level - 1, slot);
        // The new slot may be the child's smallest, and may have moved its samples.
        inner.refresh(i);
        return split == null ? null : inner.insert(i + 1, split);
    }

    /** Removes {@code slot}, which must be in the index. */
    void remove(Memslot slot) {
        long base = slot.baseGfn();
        if (height == 0) {
            removeFromLeaf((Leaf) root, base);
        } else {
            remove((Inner) root, height, base);
            if (root.count == 1) {
                root = ((Inner) root).children[0];
                height--;
            }
        }
        size--;
    }

    private static void remove(Inner node, int level, long base) {
        int i = Math.max(node.rank(base) - 1, 0);
        GfnNode<?> child = node.children[i];
        if (level == 1) {
            removeFromLeaf((Leaf) child, base);
        } else {
            remove((Inner) child, level - 1, base);
        }
        if (child.count < GfnNode.MIN_FILL) {
            refill(node, i);
        } else {
            node.refresh(i);
        }
    }

    private static void removeFromLeaf(Leaf leaf, long base) {
        int pos = leaf.rank(base) - 1;
        if (pos < 0 || leaf.keys[pos] != base) {
            throw new IllegalStateException("base gfn 0x" + Long.toHexString(base) + " not in index");
        }
        leaf.delete(pos);
    }

    /**
     * Brings child {@code i} of {@code parent}, one entry short of {@link GfnNode#MIN_FILL}, back to it:
     * merge it with a neighbour when both fit into one node, else take entries from the neighbour.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private static void refill(Inner parent, int i) {
        int r = i > 0 ? i : 1;
        GfnNode left = parent.children[r - 1];
        GfnNode right = parent.children[r];
        if (left.count + right.count <= GfnNode.CAPACITY) {
            left.absorb(right);
            parent.delete(r);
        } else if (left.count < right.count) {
            left.moveHead(right, (right.count - left.count) / 2);
        } else {
            left.moveTail(right, (left.count - right.count) / 2);
        }
        // Both nodes' keys changed (the underfull one's by the removal itself).
        parent.refresh(r - 1);
        if (parent.children[r] == right) {
            parent.refresh(r);
        }
    }

    /**
     * The kernel's in-place replace: {@code slot} takes the place of the slot with the same base gfn,
     * which must be present, without changing the structure.
     */
    void replace(Memslot slot) {
        long base = slot.baseGfn();
        Spot spot = locate(base);
        int pos = spot.rank - 1;
        if (pos < 0 || spot.leaf.keys[pos] != base) {
            throw new IllegalStateException("in-place replace needs a slot at the same base gfn: " + slot);
        }
        spot.leaf.set(pos, slot);
    }

    /**
     * {@code search_memslots} (spec §2.2): the slot containing {@code gfn}; otherwise, with {@code approx},
     * the slot below the hole if there is one, else the one above it (the lowest slot), and {@code null}
     * without {@code approx} or when the index is empty.
     */
    Memslot search(long gfn, boolean approx) {
        long key = searchKey(gfn);
        Spot spot = locate(key);
        Leaf leaf = spot.leaf;
        int pos = spot.rank - 1;
        if (pos >= 0) {
            // key < end exactly when gfn < end unsigned: ends are at most GFN_LIMIT, far below MAX_VALUE.
            return key < leaf.ends[pos] || approx ? leaf.slots[pos] : null;
        }
        // Below the smallest base gfn: the descent went leftmost, and the first slot borders the hole.
        return approx ? leaf.slots[0] : null;
    }

    /** Where a search for a key ends: a leaf, and the number of its keys at or below the key. */
    private record Spot(Leaf leaf, int rank) {
    }

    /**
     * The leaf whose key range holds {@code key}: at every level, the last child whose smallest key is at
     * or below {@code key}; the leftmost leaf when {@code key} is below every key. Below the root each rank
     * is taken from the parent's copies ({@link Inner#childRank}), so reading a child's keys does not wait
     * for the child.
     */
    private Spot locate(long key) {
        GfnNode<?> node = root;
        int rank = node.rank(key);
        if (rank == 0 && height > 0) {
            return leftmost();
        }
        // From here on key is at or above the smallest key of every node on its path (each inner key is
        // its child's smallest), so every rank is at least 1. One copy of the rank's code in the loop keeps
        // the compiled search small enough for the JIT to inline into its callers.
        for (int level = height; level > 0; level--) {
            Inner parent = (Inner) node;
            node = parent.children[rank - 1];
            rank = parent.childRank(rank - 1, key);
        }
        // One allocation site on the common path, which escape analysis removes where the caller is inlined.
        return new Spot((Leaf) node, rank);
    }

    /** A key below every key: the leftmost leaf, rank 0. */
    private Spot leftmost() {
        GfnNode<?> node = root;
        for (int level = height; level > 0; level--) {
            node = ((Inner) node).children[0];
        }
        return new Spot((Leaf) node, 0);
    }

    /**
     * A query gfn as a key for {@link GfnNode#rank}, which compares signed and takes keys below
     * {@link GfnNode#PAD}: a gfn at or above {@link InstallChecks#GFN_LIMIT}, unsigned, lies above every slot
     * (their ends are at most the limit), and so does the limit itself.
     */
    private static long searchKey(long gfn) {
        return Long.compareUnsigned(gfn, InstallChecks.GFN_LIMIT) >= 0 ? InstallChecks.GFN_LIMIT : gfn;
    }

    /** The slots intersecting {@code [start, end)} (both unsigned) in increasing base order, spec §2.3. */
    Iterator<Memslot> inRange(long start, long end) {
        Spot spot = locate(searchKey(start));
        // Spec §2.3 steps 1-2: start at the slot at or below start, or at the first slot.
        return new RangeCursor(spot.leaf, Math.max(spot.rank - 1, 0), start, end);
    }

    /**
     * A walk along the leaf chain. Step 3 of spec §2.3 (skip a first slot that ends at or before start)
     * is the end check, which later slots always pass; step 4 is the base check.
     */
    private static final class RangeCursor extends SlotLookahead {
        private Leaf leaf;
        private int pos;
        private final long start;
        private final long end;

        RangeCursor(Leaf leaf, int pos, long start, long end) {
            this.leaf = leaf;
            this.pos = pos;
            this.start = start;
            this.end = end;
        }

        @Override
        Memslot fetch() {
            while (leaf != null) {
                if (pos == leaf.count) {
                    leaf = leaf.next;
                    pos = 0;
                } else if (Long.compareUnsigned(leaf.keys[pos], end) >= 0) {
                    leaf = null;
                } else if (Long.compareUnsigned(leaf.ends[pos++], start) > 0) {
                    return leaf.slots[pos - 1];
                }
            }
            return null;
        }
    }

    /** Checks the structure (for tests); see {@link GfnIndexChecker}. */
    void checkInvariants() {
        new GfnIndexChecker(root, height, size).check();
    }
}
