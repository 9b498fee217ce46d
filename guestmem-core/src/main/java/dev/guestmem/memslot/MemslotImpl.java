package dev.guestmem.memslot;

import dev.guestmem.sync.Srcu;

/** The two memslot designs: the scalable one (≈v5.17 onward) and the sorted array it replaced. */
public enum MemslotImpl {
    /** Two sets per address space with a gfn index (a B+-tree), an hva interval tree and an id hash (spec §2). */
    TREE,
    /** The pre-2021 design: one array per address space, highest gfn first, copied on every update. */
    ARRAY;

    /** A new, empty store of this design. */
    public MemslotStore create(int addressSpaces, Srcu srcu, PublishBarrier barrier) {
        return switch (this) {
            case TREE -> new TreeMemslotStore(addressSpaces, srcu, barrier);
            case ARRAY -> new ArrayMemslotStore(addressSpaces, srcu, barrier);
        };
    }
}
