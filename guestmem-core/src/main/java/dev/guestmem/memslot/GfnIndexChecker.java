package dev.guestmem.memslot;

import dev.guestmem.memslot.GfnNode.Inner;
import dev.guestmem.memslot.GfnNode.Leaf;
import java.util.Arrays;

/**
 * The structural checks of a {@link GfnIndex}, for tests: every leaf at the same depth, fill between
 * {@link GfnNode#MIN_FILL} and {@link GfnNode#CAPACITY} below the root, keys strictly ascending then
 * padding, samples current, inner keys equal to their child's smallest key, an inner node's copies of each
 * child's keys array and samples current, leaf entries matching their slots, slots not overlapping, and the
 * leaf chain visiting every leaf in order.
 */
final class GfnIndexChecker {
    private final GfnNode<?> root;
    private final int height;
    private final int size;
    private int slots;
    /** The leaf the chain must reach next, and the last slot seen, both in key order. */
    private Leaf expectedLeaf;
    private Memslot previous;

    GfnIndexChecker(GfnNode<?> root, int height, int size) {
        this.root = root;
        this.height = height;
        this.size = size;
    }

    /** @throws IllegalStateException on the first violation */
    void check() {
        checkNode(root, height, true);
        if (expectedLeaf != null) {
            fail("the last leaf links to another leaf");
        }
        if (slots != size) {
            fail("size " + size + " but " + slots + " slots");
        }
    }

    private void checkNode(GfnNode<?> node, int level, boolean isRoot) {
        int min = isRoot ? (level == 0 ? 0 : 2) : GfnNode.MIN_FILL;
        if (node.count < min || node.count > GfnNode.CAPACITY) {
            fail("node holds " + node.count + " entries");
        }
        for (int i = 1; i < node.count; i++) {
            if (node.keys[i - 1] >= node.keys[i]) {
                fail("keys out of order at " + i + ": " + Arrays.toString(node.keys));
            }
        }
        for (int i = node.count; i < GfnNode.CAPACITY; i++) {
            if (node.keys[i] != GfnNode.PAD) {
                fail("unused key " + i + " is not padding: " + Arrays.toString(node.keys));
            }
        }
        if (!node.samplesCurrent()) {
            fail("stale samples: " + Arrays.toString(node.keys));
        }
        if (level == 0) {
            checkLeaf((Leaf) node);
            return;
        }
        Inner inner = (Inner) node;
        for (int i = 0; i < inner.count; i++) {
            GfnNode<?> child = inner.children[i];
            if (inner.keys[i] != child.keys[0]) {
                fail("inner key " + inner.keys[i] + " is not the smallest key " + child.keys[0] + " below it");
            }
            if (inner.childKeys[i] != child.keys || !child.samplesCopiedTo(inner.childSamples, i)) {
                fail("the copies of child " + i + "'s keys or samples are stale: " + Arrays.toString(child.keys));
            }
            checkNode(child, level - 1, false);
        }
        for (int i = inner.count; i < GfnNode.CAPACITY; i++) {
            if (inner.children[i] != null || inner.childKeys[i] != null) {
                fail("stale child past the end");
            }
        }
    }

    private void checkLeaf(Leaf leaf) {
        if (expectedLeaf != null && expectedLeaf != leaf) {
            fail("the leaf chain skips a leaf");
        }
        expectedLeaf = leaf.next;
        for (int i = 0; i < GfnNode.CAPACITY; i++) {
            Memslot slot = leaf.slots[i];
            if (i >= leaf.count) {
                if (slot != null) {
                    fail("stale slot past the end");
                }
                continue;
            }
            if (slot.baseGfn() != leaf.keys[i] || slot.endGfn() != leaf.ends[i]) {
                fail("leaf entry " + i + " disagrees with " + slot);
            }
            if (previous != null && previous.endGfn() > slot.baseGfn()) {
                fail(previous + " overlaps " + slot);
            }
            previous = slot;
            slots++;
        }
    }

    private static void fail(String message) {
        throw new IllegalStateException(message);
    }
}
