package dev.guestmem.memslot;

/**
 * A height-balanced binary search tree, the base of {@link HvaIntervalTree}, which chooses the key order
 * and keeps augmented per-subtree data. Only the memslot writer mutates a tree, and only while no reader
 * can reach it (the tree belongs to the inactive set), so nothing here is synchronized; readers descend
 * the {@link Node#left}/{@link Node#right} links of a published tree directly.
 *
 * <p>The kernel uses red-black trees; any O(log n) balanced tree gives the same observable order, and
 * AVL keeps lookups slightly shallower. (The gfn index is a B+-tree instead, {@link GfnIndex}: gfn
 * lookups are the hot path, and a binary tree's pointer chasing is what they cost.)
 *
 * @param <N> the node type
 */
abstract class AvlTree<N extends AvlTree.Node<N>> {
    /** A tree node; subclasses add the key, the payload and any augmentation. */
    abstract static class Node<N extends Node<N>> {
        N left;
        N right;
        int height = 1;

        /** Recomputes the height (and, in subclasses, augmented data) from the children. */
        void update() {
            height = 1 + Math.max(heightOf(left), heightOf(right));
        }
    }

    N root;
    private int size;

    /** Orders two nodes by key; equal keys are not allowed in one tree. */
    abstract int compare(N a, N b);

    final int size() {
        return size;
    }

    /** Adds {@code node}; a node with an equal key must not be present. */
    final void insert(N node) {
        node.left = null;
        node.right = null;
        node.update();
        root = insert(root, node);
        size++;
    }

    /** Removes the node whose key equals the key of {@code probe}. */
    final void remove(N probe) {
        root = remove(root, probe);
        size--;
    }

    private N insert(N at, N node) {
        if (at == null) {
            return node;
        }
        int c = compare(node, at);
        if (c < 0) {
            at.left = insert(at.left, node);
        } else if (c > 0) {
            at.right = insert(at.right, node);
        } else {
            throw new IllegalStateException("duplicate key in tree");
        }
        return rebalance(at);
    }

    private N remove(N at, N probe) {
        if (at == null) {
            throw new IllegalStateException("key not in tree");
        }
        int c = compare(probe, at);
        if (c < 0) {
            at.left = remove(at.left, probe);
            return rebalance(at);
        }
        if (c > 0) {
            at.right = remove(at.right, probe);
            return rebalance(at);
        }
        if (at.left == null) {
            return at.right;
        }
        if (at.right == null) {
            return at.left;
        }
        // Two children: the in-order successor takes the removed node's place.
        N successor = at.right;
        while (successor.left != null) {
            successor = successor.left;
        }
        successor.right = removeLeftmost(at.right);
        successor.left = at.left;
        return rebalance(successor);
    }

    private N removeLeftmost(N at) {
        if (at.left == null) {
            return at.right;
        }
        at.left = removeLeftmost(at.left);
        return rebalance(at);
    }

    private N rebalance(N n) {
        n.update();
        int balance = heightOf(n.left) - heightOf(n.right);
        if (balance > 1) {
            if (heightOf(n.left.left) < heightOf(n.left.right)) {
                n.left = rotateLeft(n.left);
            }
            return rotateRight(n);
        }
        if (balance < -1) {
            if (heightOf(n.right.right) < heightOf(n.right.left)) {
                n.right = rotateRight(n.right);
            }
            return rotateLeft(n);
        }
        return n;
    }

    private N rotateLeft(N n) {
        N r = n.right;
        n.right = r.left;
        r.left = n;
        n.update();
        r.update();
        return r;
    }

    private N rotateRight(N n) {
        N l = n.left;
        n.left = l.right;
        l.right = n;
        n.update();
        l.update();
        return l;
    }

    static int heightOf(Node<?> n) {
        return n == null ? 0 : n.height;
    }

    /**
     * Checks order, heights, balance and size (for tests); subclasses add their augmentation.
     *
     * @throws IllegalStateException on the first violation
     */
    void checkInvariants() {
        int[] count = new int[1];
        check(root, null, null, count);
        if (count[0] != size) {
            throw new IllegalStateException("size " + size + " but " + count[0] + " nodes");
        }
    }

    private int check(N n, N lower, N upper, int[] count) {
        if (n == null) {
            return 0;
        }
        count[0]++;
        if ((lower != null && compare(lower, n) >= 0) || (upper != null && compare(n, upper) >= 0)) {
            throw new IllegalStateException("order violated");
        }
        int hl = check(n.left, lower, n, count);
        int hr = check(n.right, n, upper, count);
        if (Math.abs(hl - hr) > 1 || n.height != 1 + Math.max(hl, hr)) {
            throw new IllegalStateException("balance or height violated");
        }
        checkNode(n);
        return n.height;
    }

    /** Verifies augmented data of one node whose children are already verified. */
    void checkNode(N n) {
    }
}
