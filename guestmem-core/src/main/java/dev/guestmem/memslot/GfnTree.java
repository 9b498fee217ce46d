package dev.guestmem.memslot;

import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * The gfn-ordered tree of one memslot set ({@code gfn_tree}), keyed by base gfn with primitive keys so
 * a lookup never boxes. Every node caches its slot's exclusive end gfn, so a descent touches only
 * nodes, not slot objects.
 *
 * <p>Keys are compared signed: base gfns come from 64-bit gpas shifted right by the page shift, so
 * they are below 2^52 and signed order equals the kernel's unsigned order. Query gfns come from
 * callers and may be any u64, so queries compare unsigned.
 */
final class GfnTree extends AvlTree<GfnTree.GfnNode> {
    static final class GfnNode extends AvlTree.Node<GfnNode> {
        final long base;
        long end;
        Memslot slot;

        GfnNode(Memslot slot) {
            this.base = slot.baseGfn();
            this.end = slot.endGfn();
            this.slot = slot;
        }
    }

    @Override
    int compare(GfnNode a, GfnNode b) {
        return Long.compare(a.base, b.base);
    }

    void insert(Memslot slot) {
        insert(new GfnNode(slot));
    }

    void remove(Memslot slot) {
        remove(new GfnNode(slot));
    }

    /** The node whose base gfn is exactly {@code base}, or {@code null}. */
    GfnNode node(long base) {
        GfnNode n = root;
        while (n != null && n.base != base) {
            n = base < n.base ? n.left : n.right;
        }
        return n;
    }

    /** Puts {@code slot} into {@code node}, which has the same base gfn (the kernel's in-place replace). */
    static void replaceInPlace(GfnNode node, Memslot slot) {
        if (node.base != slot.baseGfn()) {
            throw new IllegalArgumentException("in-place replace needs the same base gfn");
        }
        node.slot = slot;
        node.end = slot.endGfn();
    }

    /**
     * {@code search_memslots} (spec §2.2): the slot containing {@code gfn}; otherwise, with
     * {@code approx}, the last node of the descent, which borders the hole, and {@code null} without.
     */
    Memslot search(long gfn, boolean approx) {
        GfnNode n = root;
        GfnNode last = null;
        while (n != null) {
            last = n;
            if (Long.compareUnsigned(gfn, n.base) < 0) {
                n = n.left;
            } else if (Long.compareUnsigned(gfn, n.end) < 0) {
                return n.slot;
            } else {
                n = n.right;
            }
        }
        return approx && last != null ? last.slot : null;
    }

    /** The slots intersecting {@code [start, end)} in increasing base order (spec §2.3), both unsigned. */
    Iterator<Memslot> inRange(long start, long end) {
        return new RangeCursor(this, start, end);
    }

    /**
     * An in-order walk: {@code ancestors} holds, innermost last, the nodes above {@code next} whose left
     * subtree contains it, which are exactly the nodes still to come after {@code next}'s right subtree.
     */
    private static final class RangeCursor implements Iterator<Memslot> {
        private final GfnNode[] ancestors;
        private int depth;
        private GfnNode next;
        private final long end;

        RangeCursor(GfnTree tree, long start, long end) {
            this.end = end;
            GfnNode root = tree.root;
            this.ancestors = new GfnNode[heightOf(root)];
            // Step 1 of §2.3: descend towards the first base above start, remembering the last node
            // at or below start (its predecessor, or the highest node when no upper bound exists).
            GfnNode predecessor = null;
            int depthAtPredecessor = 0;
            for (GfnNode n = root; n != null; ) {
                if (Long.compareUnsigned(n.base, start) > 0) {
                    ancestors[depth++] = n;
                    n = n.left;
                } else {
                    predecessor = n;
                    depthAtPredecessor = depth;
                    n = n.right;
                }
            }
            // Step 2: start at the predecessor if there is one; nodes pushed below it come after it
            // anyway and would be pushed again when stepping through its right subtree.
            if (predecessor != null) {
                depth = depthAtPredecessor;
                next = predecessor;
            } else {
                next = depth == 0 ? null : ancestors[--depth];
            }
            // Step 3: a predecessor that ends at or before start does not intersect.
            if (next != null && Long.compareUnsigned(next.end, start) <= 0) {
                advance();
            }
        }

        @Override
        public boolean hasNext() {
            // Step 4: stop at the first slot starting at or after end.
            return next != null && Long.compareUnsigned(next.base, end) < 0;
        }

        @Override
        public Memslot next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            Memslot slot = next.slot;
            advance();
            return slot;
        }

        private void advance() {
            GfnNode n = next.right;
            if (n == null) {
                next = depth == 0 ? null : ancestors[--depth];
                return;
            }
            while (n.left != null) {
                ancestors[depth++] = n;
                n = n.left;
            }
            next = n;
        }
    }
}
