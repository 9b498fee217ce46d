package dev.guestmem.memslot;

import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * The hva index of one memslot set ({@code hva_tree}): an interval tree over the inclusive host
 * ranges {@code [userspace_addr, userspace_addr + npages * PAGE_SIZE - 1]} (spec §2.1). Intervals may
 * overlap, because two slots may alias the same host memory, so the tree is keyed by
 * {@code (start, slot id)}, which is unique within a set, and each node carries the largest interval
 * end of its subtree to prune the intersection walk to O(log n + k).
 *
 * <p>All addresses are compared unsigned, like the kernel's {@code unsigned long}.
 */
final class HvaIntervalTree extends AvlTree<HvaIntervalTree.HvaNode> {
    static final class HvaNode extends AvlTree.Node<HvaNode> {
        final long start;
        final long last;
        final int id;
        /** Replaced in place when a slot changes all but its host range ({@link HvaIntervalTree#replace}). */
        Memslot slot;
        /** The largest {@link #last} in this node's subtree. */
        long subtreeLast;

        HvaNode(Memslot slot) {
            this.start = slot.userspaceAddr();
            this.last = slot.hvaEnd() - 1;
            this.id = slot.id();
            this.slot = slot;
            this.subtreeLast = last;
        }

        @Override
        void update() {
            super.update();
            long max = last;
            if (left != null && Long.compareUnsigned(left.subtreeLast, max) > 0) {
                max = left.subtreeLast;
            }
            if (right != null && Long.compareUnsigned(right.subtreeLast, max) > 0) {
                max = right.subtreeLast;
            }
            subtreeLast = max;
        }
    }

    @Override
    int compare(HvaNode a, HvaNode b) {
        int c = Long.compareUnsigned(a.start, b.start);
        return c != 0 ? c : Integer.compare(a.id, b.id);
    }

    /** Inserts the interval of {@code slot}; returns its node, for the id hash. */
    HvaNode insert(Memslot slot) {
        HvaNode node = new HvaNode(slot);
        insert(node);
        return node;
    }

    /** Removes the interval of {@code slot}; its id and host range must be as when inserted. */
    void remove(Memslot slot) {
        remove(new HvaNode(slot));
    }

    /**
     * Puts {@code next} in {@code node}, a node of this tree whose slot has the same id and host range: the
     * key and the interval stay, so the tree needs no rebalancing.
     */
    static void replace(HvaNode node, Memslot next) {
        if (!sameRange(node.slot, next)) {
            throw new IllegalArgumentException("in-place replace needs the same id and host range: " + next);
        }
        node.slot = next;
    }

    /** Whether {@code a} and {@code b} have the same key and interval here. */
    static boolean sameRange(Memslot a, Memslot b) {
        return a.id() == b.id() && a.userspaceAddr() == b.userspaceAddr() && a.hvaEnd() == b.hvaEnd();
    }

    /**
     * The slots whose inclusive host range intersects {@code [first, last]} (inclusive, unsigned), in
     * increasing order of start address and, for equal starts, of slot id.
     */
    Iterator<Memslot> overlapping(long first, long last) {
        return new OverlapCursor(root, first, last);
    }

    @Override
    void checkNode(HvaNode n) {
        if (n.start != n.slot.userspaceAddr() || n.last != n.slot.hvaEnd() - 1 || n.id != n.slot.id()) {
            throw new IllegalStateException("node key differs from its slot: " + n.slot);
        }
        long expected = n.last;
        for (HvaNode child : new HvaNode[] {n.left, n.right}) {
            if (child != null && Long.compareUnsigned(child.subtreeLast, expected) > 0) {
                expected = child.subtreeLast;
            }
        }
        if (n.subtreeLast != expected) {
            throw new IllegalStateException("subtree end of " + n.slot + " is stale");
        }
    }

    /**
     * An in-order walk that skips every subtree whose largest end lies below {@code first} and stops at
     * the first node starting after {@code last}: all later nodes start even later.
     */
    private static final class OverlapCursor implements Iterator<Memslot> {
        private final HvaNode[] pending;
        private int depth;
        private final long first;
        private final long last;
        private HvaNode next;

        OverlapCursor(HvaNode root, long first, long last) {
            this.pending = new HvaNode[heightOf(root)];
            this.first = first;
            this.last = last;
            pushLeftSpine(root);
            findNext();
        }

        @Override
        public boolean hasNext() {
            return next != null;
        }

        @Override
        public Memslot next() {
            if (next == null) {
                throw new NoSuchElementException();
            }
            Memslot slot = next.slot;
            findNext();
            return slot;
        }

        private void findNext() {
            while (depth > 0) {
                HvaNode n = pending[--depth];
                if (Long.compareUnsigned(n.start, last) > 0) {
                    break;
                }
                pushLeftSpine(n.right);
                if (Long.compareUnsigned(n.last, first) >= 0) {
                    next = n;
                    return;
                }
            }
            depth = 0;
            next = null;
        }

        private void pushLeftSpine(HvaNode n) {
            while (n != null && Long.compareUnsigned(n.subtreeLast, first) >= 0) {
                pending[depth++] = n;
                n = n.left;
            }
        }
    }
}
