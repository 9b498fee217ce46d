package dev.guestmem.fuzz;

import dev.guestmem.trace.VmFactory;
import java.util.Objects;

/** A named way to create VMs: {@code engine}, {@code kvm}, or a test's deliberately different one. */
public record Backend(String name, VmFactory factory) {
    public Backend {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(factory, "factory");
    }

    /** The pure-Java engine. */
    public static Backend engine() {
        return new Backend("engine", VmFactory.engine());
    }
}
