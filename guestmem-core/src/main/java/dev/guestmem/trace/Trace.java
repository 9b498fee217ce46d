package dev.guestmem.trace;

import dev.guestmem.vm.VmType;
import java.util.List;
import java.util.Objects;

/**
 * A parsed trace: the file it came from, the type of the VM it runs on (from a leading {@code vm} line,
 * else {@link VmType#DEFAULT}), its operations in order (a leading {@link TraceOp.VmLine} included) and
 * its whole-line comments, which listings such as the tour show as headings.
 */
public record Trace(String file, VmType vmType, List<TraceOp> ops, List<TraceComment> comments) {
    public Trace {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(vmType, "vmType");
        ops = List.copyOf(ops);
        comments = List.copyOf(comments);
    }
}
