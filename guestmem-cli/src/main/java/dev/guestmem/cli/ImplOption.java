package dev.guestmem.cli;

import dev.guestmem.memslot.MemslotImpl;
import picocli.CommandLine.Option;

/** {@code --impl tree|array}: which memslot design the replay's VM uses. */
public final class ImplOption {
    @Option(names = "--impl", paramLabel = "tree|array", defaultValue = "tree",
            description = "Memslot design: tree (scalable memslots, default) or array (the old sorted array).")
    private MemslotImpl impl = MemslotImpl.TREE;

    /** The chosen design. */
    public MemslotImpl impl() {
        return impl;
    }
}
