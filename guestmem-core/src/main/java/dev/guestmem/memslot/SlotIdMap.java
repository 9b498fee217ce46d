package dev.guestmem.memslot;

import dev.guestmem.memslot.HvaIntervalTree.HvaNode;
import java.util.Arrays;

/**
 * The id hash of one memslot set ({@code id_hash}): slot id to the slot's node in the set's hva tree,
 * which holds the slot (in the kernel both nodes live in the slot, so an id lookup reaches the hva node
 * at once, as here, and a replace that keeps the host range needs no tree search), with primitive keys so
 * {@code byId} never boxes, and a table that grows with the slots in use instead of being sized for
 * {@link KvmLimits#MEM_SLOTS_NUM}. Open addressing with linear probing; deletion shifts the following
 * run back so lookups need no tombstones. Mutated only by the writer while the set is inactive.
 */
final class SlotIdMap {
    private static final int EMPTY = -1;
    private static final int MIN_CAPACITY = 16;

    private int[] ids;
    private HvaNode[] nodes;
    private int size;

    SlotIdMap() {
        allocate(MIN_CAPACITY);
    }

    int size() {
        return size;
    }

    /** The slot with {@code id}, or {@code null}. */
    Memslot get(int id) {
        HvaNode node = node(id);
        return node == null ? null : node.slot;
    }

    /** The hva node of the slot with {@code id}, or {@code null}. */
    HvaNode node(int id) {
        int[] keys = ids;
        int mask = keys.length - 1;
        for (int i = home(id, mask); ; i = (i + 1) & mask) {
            int k = keys[i];
            if (k == id) {
                return nodes[i];
            }
            if (k == EMPTY) {
                return null;
            }
        }
    }

    /** Maps the id of {@code node}'s slot to {@code node}, replacing any previous mapping of that id. */
    void put(HvaNode node) {
        int id = node.id;
        if (id < 0) {
            throw new IllegalArgumentException("negative slot id " + id);
        }
        if (2 * (size + 1) > ids.length) {
            rehash(ids.length * 2);
        }
        int mask = ids.length - 1;
        int i = home(id, mask);
        while (ids[i] != EMPTY && ids[i] != id) {
            i = (i + 1) & mask;
        }
        if (ids[i] == EMPTY) {
            ids[i] = id;
            size++;
        }
        nodes[i] = node;
    }

    /** Removes the mapping of {@code id}, if any. */
    void remove(int id) {
        int mask = ids.length - 1;
        int i = home(id, mask);
        while (ids[i] != id) {
            if (ids[i] == EMPTY) {
                return;
            }
            i = (i + 1) & mask;
        }
        // Close the gap: move back every later entry of the run whose home is not between the gap and it.
        int gap = i;
        for (int j = (gap + 1) & mask; ids[j] != EMPTY; j = (j + 1) & mask) {
            int h = home(ids[j], mask);
            if (((j - h) & mask) >= ((j - gap) & mask)) {
                ids[gap] = ids[j];
                nodes[gap] = nodes[j];
                gap = j;
            }
        }
        ids[gap] = EMPTY;
        nodes[gap] = null;
        size--;
        if (ids.length > MIN_CAPACITY && 8 * size < ids.length) {
            rehash(ids.length / 2);
        }
    }

    private static int home(int id, int mask) {
        return (id * 0x9E3779B9 >>> 16) & mask;
    }

    private void allocate(int capacity) {
        ids = new int[capacity];
        Arrays.fill(ids, EMPTY);
        nodes = new HvaNode[capacity];
    }

    private void rehash(int capacity) {
        int[] oldIds = ids;
        HvaNode[] oldNodes = nodes;
        allocate(capacity);
        size = 0;
        for (int i = 0; i < oldIds.length; i++) {
            if (oldIds[i] != EMPTY) {
                put(oldNodes[i]);
            }
        }
    }
}
