package dev.guestmem.host;

import java.util.ArrayList;
import java.util.List;

/**
 * An immutable sorted set of {@link Area}s keyed by start address: a persistent AVL tree. Every change
 * returns a new tree that shares all untouched nodes with the old one (path copying, O(log n) new
 * nodes), so a tree once published can be read by any number of threads without synchronization while
 * the writer prepares the next one.
 *
 * <p>Keys compare as signed longs; user-space addresses are below 2^47, where that is the unsigned
 * order.
 */
final class AreaTree {
    /** The empty tree. */
    static final AreaTree EMPTY = new AreaTree(null, 0);

    private record Node(Area area, Node left, Node right, int height) {
        long key() {
            return area.start();
        }
    }

    private final Node root;
    private final int size;

    private AreaTree(Node root, int size) {
        this.root = root;
        this.size = size;
    }

    int size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    /** The area with the greatest start {@code <= key}, or null. */
    Area floor(long key) {
        Area best = null;
        for (Node n = root; n != null; ) {
            if (n.key() <= key) {
                best = n.area;
                n = n.right;
            } else {
                n = n.left;
            }
        }
        return best;
    }

    /** The area with the greatest start {@code < key}, or null. */
    Area lower(long key) {
        Area best = null;
        for (Node n = root; n != null; ) {
            if (n.key() < key) {
                best = n.area;
                n = n.right;
            } else {
                n = n.left;
            }
        }
        return best;
    }

    /** The area with the smallest start {@code > key}, or null. */
    Area higher(long key) {
        Area best = null;
        for (Node n = root; n != null; ) {
            if (n.key() > key) {
                best = n.area;
                n = n.left;
            } else {
                n = n.right;
            }
        }
        return best;
    }

    /** This tree with {@code area} added, replacing the area with the same start if there is one. */
    AreaTree put(Area area) {
        boolean[] added = new boolean[1];
        Node newRoot = put(root, area, added);
        return new AreaTree(newRoot, added[0] ? size + 1 : size);
    }

    /** This tree without the area starting at {@code key} (itself if there is none). */
    AreaTree remove(long key) {
        boolean[] removed = new boolean[1];
        Node newRoot = remove(root, key, removed);
        return removed[0] ? new AreaTree(newRoot, size - 1) : this;
    }

    /** Every area in ascending order. */
    List<Area> toList() {
        List<Area> out = new ArrayList<>(size);
        collect(root, out);
        return out;
    }

    /** Checks the AVL and ordering invariants (tests); returns the height. */
    int checkInvariants() {
        int counted = checkInvariants(root, Long.MIN_VALUE, Long.MAX_VALUE);
        if (counted != size) {
            throw new AssertionError("size " + size + " but " + counted + " nodes");
        }
        return height(root);
    }

    // --- AVL internals -------------------------------------------------------------------------

    private static int height(Node n) {
        return n == null ? 0 : n.height;
    }

    private static Node node(Area area, Node left, Node right) {
        return new Node(area, left, right, 1 + Math.max(height(left), height(right)));
    }

    /** A node for {@code area} over subtrees whose heights differ by at most 2, rebalanced. */
    private static Node balance(Area area, Node left, Node right) {
        int hl = height(left);
        int hr = height(right);
        if (hl > hr + 1) {
            if (height(left.left) >= height(left.right)) {
                return node(left.area, left.left, node(area, left.right, right));
            }
            Node pivot = left.right;
            return node(pivot.area, node(left.area, left.left, pivot.left), node(area, pivot.right, right));
        }
        if (hr > hl + 1) {
            if (height(right.right) >= height(right.left)) {
                return node(right.area, node(area, left, right.left), right.right);
            }
            Node pivot = right.left;
            return node(pivot.area, node(area, left, pivot.left), node(right.area, pivot.right, right.right));
        }
        return node(area, left, right);
    }

    private static Node put(Node n, Area area, boolean[] added) {
        if (n == null) {
            added[0] = true;
            return node(area, null, null);
        }
        int c = Long.compare(area.start(), n.key());
        if (c < 0) {
            return balance(n.area, put(n.left, area, added), n.right);
        }
        if (c > 0) {
            return balance(n.area, n.left, put(n.right, area, added));
        }
        return new Node(area, n.left, n.right, n.height);
    }

    private static Node remove(Node n, long key, boolean[] removed) {
        if (n == null) {
            return null;
        }
        int c = Long.compare(key, n.key());
        if (c < 0) {
            return balance(n.area, remove(n.left, key, removed), n.right);
        }
        if (c > 0) {
            return balance(n.area, n.left, remove(n.right, key, removed));
        }
        removed[0] = true;
        if (n.left == null) {
            return n.right;
        }
        if (n.right == null) {
            return n.left;
        }
        Node min = n.right;
        while (min.left != null) {
            min = min.left;
        }
        return balance(min.area, n.left, removeMin(n.right));
    }

    private static Node removeMin(Node n) {
        if (n.left == null) {
            return n.right;
        }
        return balance(n.area, removeMin(n.left), n.right);
    }

    private static void collect(Node n, List<Area> out) {
        if (n != null) {
            collect(n.left, out);
            out.add(n.area);
            collect(n.right, out);
        }
    }

    private static int checkInvariants(Node n, long lowerExclusive, long upperExclusive) {
        if (n == null) {
            return 0;
        }
        if (n.key() <= lowerExclusive || n.key() >= upperExclusive) {
            throw new AssertionError("key order violated at " + n.area);
        }
        int hl = height(n.left);
        int hr = height(n.right);
        if (Math.abs(hl - hr) > 1 || n.height != 1 + Math.max(hl, hr)) {
            throw new AssertionError("AVL balance violated at " + n.area);
        }
        return 1 + checkInvariants(n.left, lowerExclusive, n.key()) + checkInvariants(n.right, n.key(), upperExclusive);
    }
}
