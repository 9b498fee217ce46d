package dev.guestmem.cli;

import picocli.CommandLine.Option;

/** {@code --backend engine|kvm|both}: where {@code run} replays its traces. */
public final class BackendOption {
    @Option(names = "--backend", paramLabel = "engine|kvm|both", defaultValue = "engine",
            description = {"Where to replay: engine (the pure-Java engine, default), kvm (the real kernel through "
                + "/dev/kvm) or both (prints the engine's lines; at the first line where the two differ prints "
                + "'DIVERGENCE FILE:LINE: OP' with both results, exit status 1)."})
    private BackendChoice backend = BackendChoice.ENGINE;

    /** The chosen backend. */
    public BackendChoice choice() {
        return backend;
    }
}
