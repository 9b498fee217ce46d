package dev.guestmem.fuzz;

/**
 * The rules a generated trace keeps so that the engine and the kernel of these machines must print the
 * same lines: each excludes something whose outcome depends on the reference runner or on the process
 * the replay runs in rather than on KVM's semantics, or where these machines' KVM differs from the
 * upstream KVM the engine models for a documented reason. {@link TraceGenerator} keeps them by
 * construction and {@link RuleChecker} finds a trace's first violation.
 */
public enum ExclusionRule {
    /** trace-format.md, "Reserved for the reference runner": slot 32763 holds the runner's guest code. */
    RESERVED_SLOT("never memslot id 32763",
            "trace-format.md 'Reserved for the reference runner': the runner keeps slot 32763 for its guest code"),
    /** trace-format.md, same section: the doorbell and the runner's code slot. */
    RESERVED_GPAS("no memslot and no guest access in 0xFFD00000-0xFFE07FFF",
            "trace-format.md 'Reserved for the reference runner': doorbell 0xFFD00000 (in no memslot) and the"
                    + " runner's code and page tables at 0xFFE00000-0xFFE07FFF"),
    /** trace-format.md, same section: the identity map covers the low 4 GiB only. */
    ACCESSES_BELOW_4GIB("guest accesses below 4 GiB",
            "trace-format.md 'Reserved for the reference runner': the runner only identity-maps the low 4 GiB"),
    /** kvm-backend.md, "Facts about these machines' KVM": KVM_CAP_VM_TYPES = 1. */
    DEFAULT_VM_ONLY("no 'vm sw-protected'",
            "kvm-backend.md 'Facts about these machines' KVM': KVM_CAP_VM_TYPES is 1, the reference kernel creates"
                    + " default VMs only"),
    /**
     * trace-format.md, host operations: a NAME is one mapping. What lies next to it differs between the two
     * replays' processes (on the KVM side possibly the backend's own memory), so slots, madvise/mprotect
     * ranges and host accesses stay inside the mapping they name.
     */
    HVA_IN_MAPPING("hva ranges inside the mapping they name",
            "trace-format.md 'Host operations': beyond a mapping lies whatever the replaying process mapped there,"
                    + " which differs between the engine's replay and the kernel's"),
    /**
     * mmap_min_addr keeps the first page unmapped and {@code access_ok} refuses addresses past
     * {@code TASK_SIZE_MAX} (spec §1.1 step 9); any other raw address could be the JVM's own memory on the
     * kernel's side, while the engine knows only the trace's mappings.
     */
    RAW_HVAS_NEVER_MAPPED("raw hvas only in page 0, misaligned, or past TASK_SIZE_MAX",
            "spec §1.1 step 9 and mmap_min_addr: other raw addresses could be the JVM's own memory on the kernel's"
                    + " side"),
    /**
     * The engine models a file table of its own ({@code FileTable}), the kernel looks fds up in the JVM's:
     * an fd of the JVM would be {@code EINVAL} there and {@code EBADF} here (spec §5.4).
     */
    RAW_FDS_NEVER_OPEN("raw guest_memfd fds only -1 or >= 2^20",
            "spec §5.4: the kernel looks the fd up in the JVM's file table, the engine in its own; fds >= 2^20"
                    + " (the default fs.nr_open) are never open"),
    /**
     * kvm-backend.md, "Facts about these machines' KVM": the reference kernel runs guests on the shadow MMU,
     * whose faults prefetch the neighbours of the faulting page in its aligned group of 8; the TDP MMU the
     * engine models (mmu.md §2.2) prefetches nothing. {@link PrefetchedPages} says exactly what the rule
     * excludes and why that is enough.
     */
    SHADOW_MMU_PREFETCH("no guest read, in a dirty-logging slot, of a page whose aligned 8-page group (gfn & ~7)"
            + " a guest access touched while the slot, in its place, did not log, and that the guest has not accessed"
            + " since",
            "kvm-backend.md 'Facts about these machines' KVM': kvm_pvm runs guests with shadow paging (tdp_mmu=N),"
                    + " whose faults prefetch the SPTEs of present, writable host pages of the faulting page's aligned"
                    + " 8-page group in slots that do not log (direct_pte_prefetch); enabling dirty logging"
                    + " write-protects them but keeps them (mmu.md §3.5), so a later guest read does not fault and"
                    + " logs nothing, where the TDP MMU of mmu.md §2.2 prefetches nothing and its read fault logs the"
                    + " host-writable page (docs/differential-testing.md, seed 223550)");

    private final String summary;
    private final String reason;

    ExclusionRule(String summary, String reason) {
        this.summary = summary;
        this.reason = reason;
    }

    /** What the rule keeps traces to, in a few words. */
    public String summary() {
        return summary;
    }

    /** Why, citing the spec. */
    public String reason() {
        return reason;
    }
}
