package dev.guestmem.fuzz;

import dev.guestmem.host.HostMemory;
import dev.guestmem.trace.GmemOperand;
import dev.guestmem.trace.HvaOperand;
import dev.guestmem.trace.Trace;
import dev.guestmem.trace.TraceOp;
import dev.guestmem.vm.VmType;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Finds the first operation of a trace that breaks an {@link ExclusionRule}. It follows the trace's
 * host mappings as the replayer binds them (a NAME is bound by an {@code mmap} that succeeds and unbound
 * by one that fails) to know how large the mapping behind each NAME is, and its region requests and guest
 * accesses ({@link PrefetchedPages}) to know which pages the reference kernel may have prefetched.
 * Independent of the generator, whose traces it checks, and usable on any trace.
 */
public final class RuleChecker {
    /** Raw hvas in this page are never mapped: mmap_min_addr is at least one page. */
    private static final long NEVER_MAPPED_PAGE_END = HostMemory.PAGE_SIZE;
    /** fs.nr_open's default (and usual) maximum: no fd reaches it. */
    static final long NEVER_OPEN_FD = 1L << 20;

    /** A mapping a NAME is bound to: bindings are numbered in order; size in bytes, whole pages. */
    private record Mapping(int binding, long size) {
    }

    /** NAME → the mapping it is bound to. */
    private final Map<String, Mapping> mappings = new HashMap<>();
    private int bindings;
    private final PrefetchedPages prefetched = new PrefetchedPages();

    private RuleChecker() {
    }

    /** The first violation in {@code trace}, if any. */
    public static Optional<RuleViolation> firstViolation(Trace trace) {
        RuleChecker checker = new RuleChecker();
        for (TraceOp op : trace.ops()) {
            Optional<ExclusionRule> broken = checker.check(op);
            if (broken.isPresent()) {
                return Optional.of(new RuleViolation(broken.get(), op));
            }
        }
        return Optional.empty();
    }

    private Optional<ExclusionRule> check(TraceOp op) {
        return Optional.ofNullable(switch (op) {
            case TraceOp.VmLine v -> v.type() == VmType.DEFAULT ? null : ExclusionRule.DEFAULT_VM_ONLY;
            case TraceOp.Mmap m -> mapped(m.name(), m.size());
            case TraceOp.GmemMmap m -> mapped(m.name(), m.size());
            case TraceOp.Munmap _ -> null; // the name stays bound to the addresses, which stay reserved
            case TraceOp.Madvise m -> madvise(m);
            case TraceOp.Mprotect m -> hostRange(m.name(), m.offset(), m.length());
            case TraceOp.HostWrite w -> hostAccess(w.hva());
            case TraceOp.HostRead r -> hostAccess(r.hva());
            case TraceOp.Region r -> region(true, r.slot(), r.flags(), r.guestPhysAddr(), r.memorySize(), r.hva(),
                    false);
            case TraceOp.Region2 r -> {
                ExclusionRule broken = region(false, r.slot(), r.flags(), r.guestPhysAddr(), r.memorySize(), r.hva(),
                        r.gmem() instanceof GmemOperand.Named);
                yield broken != null ? broken : gmemFd(r.gmem());
            }
            case TraceOp.GuestWrite w -> guestAccess(w.gpa(), true);
            case TraceOp.GuestRead r -> guestAccess(r.gpa(), false);
            case TraceOp.EnableCap _, TraceOp.DirtyLog _, TraceOp.ClearLog _, TraceOp.Attrs _, TraceOp.Gmem _,
                    TraceOp.Fstat _, TraceOp.Close _ -> null;
            case TraceOp.Fallocate f -> gmemFd(f.gmem());
        });
    }

    /** Binds or unbinds {@code name} as {@link HostMemory#mmap} would. */
    private ExclusionRule mapped(String name, long size) {
        long pages = (size + HostMemory.PAGE_SIZE - 1) & -HostMemory.PAGE_SIZE;
        boolean succeeds = size != 0 && pages != 0 && Long.compareUnsigned(pages, HostMemory.TASK_SIZE) <= 0;
        if (succeeds) {
            mappings.put(name, new Mapping(bindings++, pages));
        } else {
            mappings.remove(name);
        }
        return null;
    }

    /** madvise/mprotect: a misaligned offset is refused and an empty range does nothing. */
    private static boolean refusedOrEmpty(long offset, long length) {
        return (offset & (HostMemory.PAGE_SIZE - 1)) != 0 || length == 0;
    }

    /** A range inside the mapping. */
    private ExclusionRule madvise(TraceOp.Madvise m) {
        return hostRange(m.name(), m.offset(), m.length());
    }

    private ExclusionRule hostRange(String name, long offset, long length) {
        if (refusedOrEmpty(offset, length)) {
            return null;
        }
        long pages = (length + HostMemory.PAGE_SIZE - 1) & -HostMemory.PAGE_SIZE;
        return pages != 0 && inMapping(name, offset, pages) ? null : ExclusionRule.HVA_IN_MAPPING;
    }

    private ExclusionRule hostAccess(HvaOperand hva) {
        return switch (hva) {
            case HvaOperand.Named n -> inMapping(n.name(), n.offset(), Long.BYTES) ? null : ExclusionRule.HVA_IN_MAPPING;
            case HvaOperand.Address a -> inNeverMappedPage(a.value(), Long.BYTES)
                    || Long.compareUnsigned(a.value(), HostMemory.TASK_SIZE) >= 0
                    ? null : ExclusionRule.RAW_HVAS_NEVER_MAPPED;
        };
    }

    /** Checks a region request and, if the argument checks let it through, follows it. */
    private ExclusionRule region(boolean v1, int slot, int flags, long gpa, long size, HvaOperand hva,
            boolean gmemMayBind) {
        ExclusionRule broken = placement(v1, slot, flags, gpa, size, hva);
        if (broken == null && !ArgumentChecks.refused(v1, slot, flags, gpa, size, hva)) {
            prefetched.request(new SlotRequest(slot, flags, gpa, size, HvaKey.of(hva, this::binding), gmemMayBind));
        }
        return broken;
    }

    /**
     * The slot id is never used; other rules bind only requests that could create or change a slot: a
     * deletion maps nothing, and a request the argument checks refuse touches nothing.
     */
    private ExclusionRule placement(boolean v1, int slot, int flags, long gpa, long size, HvaOperand hva) {
        if (ReservedForRunner.isReservedSlot(slot)) {
            return ExclusionRule.RESERVED_SLOT;
        }
        if (size == 0 || ArgumentChecks.refused(v1, slot, flags, gpa, size, hva)) {
            return null;
        }
        if (ReservedForRunner.meetsWindow(gpa, size)) {
            return ExclusionRule.RESERVED_GPAS;
        }
        return switch (hva) {
            case HvaOperand.Named n -> {
                yield inMapping(n.name(), n.offset(), size) ? null : ExclusionRule.HVA_IN_MAPPING;
            }
            case HvaOperand.Address a -> inNeverMappedPage(a.value(), size) ? null : ExclusionRule.RAW_HVAS_NEVER_MAPPED;
        };
    }

    private static ExclusionRule gmemFd(GmemOperand gmem) {
        return switch (gmem) {
            case GmemOperand.Named _ -> null;
            case GmemOperand.Fd f -> f.fd() < 0 || f.fd() >= NEVER_OPEN_FD ? null : ExclusionRule.RAW_FDS_NEVER_OPEN;
        };
    }

    /** A guest access, which may make the shadow MMU prefetch its neighbours. */
    private ExclusionRule guestAccess(long gpa, boolean store) {
        ExclusionRule broken = reachable(gpa);
        if (broken == null && !store && !prefetched.mayRead(gpa)) {
            broken = ExclusionRule.SHADOW_MMU_PREFETCH;
        }
        prefetched.accessed(gpa);
        return broken;
    }

    /** Where a guest access may go: below 4 GiB, outside the runner's window. */
    private static ExclusionRule reachable(long gpa) {
        if (Long.compareUnsigned(gpa, ReservedForRunner.ACCESS_LIMIT) >= 0) {
            return ExclusionRule.ACCESSES_BELOW_4GIB;
        }
        return ReservedForRunner.isReachable(gpa) ? null : ExclusionRule.RESERVED_GPAS;
    }

    /** Whether {@code [hva, hva + length)} lies in the first page, which is never mapped. */
    private static boolean inNeverMappedPage(long hva, long length) {
        return Long.compareUnsigned(hva, NEVER_MAPPED_PAGE_END) <= 0
                && Long.compareUnsigned(length, NEVER_MAPPED_PAGE_END - hva) <= 0;
    }

    /** Whether {@code [offset, offset + length)} lies inside the mapping bound to {@code name}. */
    private boolean inMapping(String name, long offset, long length) {
        Mapping mapping = mappings.get(name);
        return mapping != null && Long.compareUnsigned(offset, mapping.size()) <= 0
                && Long.compareUnsigned(length, mapping.size() - offset) <= 0;
    }

    /**
     * The binding of {@code name}. An unbound name can only reach a deletion, which ignores the hva, or a
     * request that breaks HVA_IN_MAPPING: any number serves.
     */
    private int binding(String name) {
        Mapping mapping = mappings.get(name);
        return mapping == null ? HvaKey.RAW : mapping.binding();
    }
}
