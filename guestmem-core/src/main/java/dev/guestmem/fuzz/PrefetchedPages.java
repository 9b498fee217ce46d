package dev.guestmem.fuzz;

import dev.guestmem.memslot.KvmLimits;
import dev.guestmem.memslot.MemslotFlags;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The guest pages whose SPTE the reference kernel may hold while the engine holds none, because the
 * kernel's shadow MMU prefetched them (rule {@link ExclusionRule#SHADOW_MMU_PREFETCH}), as far as a trace
 * shows without running it. What the kernel does (v6.18, {@code arch/x86/kvm/mmu/mmu.c}):
 *
 * <ul>
 *   <li>After a fault installs an SPTE through a direct shadow page (the runner's guest maps 2 MiB pages,
 *       so every fault does), {@code direct_pte_prefetch} maps the other not-present pages of the faulting
 *       page's aligned group of {@value #GROUP_PAGES} ({@code gfn & ~7}): only in a slot that neither logs
 *       dirty pages ({@code gfn_to_memslot_dirty_bitmap}) nor is read-only, and only host pages that are
 *       present and writable ({@code kvm_prefetch_pages}: {@code FOLL_WRITE}, fast path only). A fault on a
 *       gpa in no slot that installs an MMIO SPTE prefetches too (none did in a test on these machines,
 *       which may not cache MMIO SPTEs; counted all the same).</li>
 *   <li>Turning dirty logging on write-protects such an SPTE and keeps it (mmu.md §3.5, no PML under shadow
 *       paging). A guest load then finds it and does not fault, so nothing is logged, where the engine's
 *       load faults and, the host page being writable, maps it writable and logs it (seed 223550).</li>
 *   <li>The SPTE goes when the slot is deleted or moved (a new {@link PossibleSlots.Layout#incarnation() incarnation}
 *       here) and when the host invalidates its page. And the difference goes when the guest accesses the
 *       page itself: then the engine maps it too, alike (a store maps it writable on both sides and, in a
 *       slot that logs, logs it on both; a load in a slot that does not log maps the writable host page
 *       writable, as the prefetch did).</li>
 * </ul>
 *
 * <p>Where exactness would need a model of the kernel's MMU and host memory this errs towards excluding
 * more: every guest access counts as a fault, whatever its result and whether or not its own SPTE was
 * present; every page of a group in a slot that may prefetch counts as prefetched, whatever its host page
 * and whether the prefetched run would have stayed inside one slot; host invalidations ({@code munmap},
 * {@code madvise}, {@code mprotect}) do not end a prefetch; and in {@code KVM_DIRTY_LOG_INITIALLY_SET} mode
 * a load of a prefetched page is excluded even before a {@code clear} write-protects it.
 */
final class PrefetchedPages {
    /** {@code PTE_PREFETCH_NUM}: the size of the aligned group a fault prefetches. */
    static final int GROUP_PAGES = 8;

    private final PossibleSlots slots = new PossibleSlots();
    /** Slot incarnation → the gfns in it that may be prefetched. */
    private final Map<Integer, Set<Long>> prefetched = new HashMap<>();

    /** A region request the argument checks let through. */
    void request(SlotRequest request) {
        slots.apply(request);
    }

    /** Whether a guest load at {@code gpa} keeps the rule: no slot that may log may hold it prefetched. */
    boolean mayRead(long gpa) {
        long gfn = gpa >>> KvmLimits.PAGE_SHIFT;
        return slots.layouts().noneMatch(layout -> layout.has(MemslotFlags.LOG_DIRTY_PAGES) && layout.contains(gfn)
                && prefetched.getOrDefault(layout.incarnation(), Set.of()).contains(gfn));
    }

    /** A guest access at {@code gpa}: a store, or a load {@link #mayRead} allows; whatever its result. */
    void accessed(long gpa) {
        long gfn = gpa >>> KvmLimits.PAGE_SHIFT;
        long first = gfn & -GROUP_PAGES;
        slots.layouts().filter(PrefetchedPages::mayPrefetchInto).forEach(layout -> {
            for (long neighbour = first; neighbour < first + GROUP_PAGES; neighbour++) {
                if (neighbour != gfn && layout.contains(neighbour)) {
                    prefetched.computeIfAbsent(layout.incarnation(), i -> new HashSet<>()).add(neighbour);
                }
            }
        });
        prefetched.values().forEach(pages -> pages.remove(gfn));
    }

    private static boolean mayPrefetchInto(PossibleSlots.Layout layout) {
        return !layout.has(MemslotFlags.LOG_DIRTY_PAGES) && !layout.has(MemslotFlags.READONLY);
    }
}
