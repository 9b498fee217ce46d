package dev.guestmem.fuzz;

import dev.guestmem.host.HostMemory;
import dev.guestmem.trace.HvaOperand;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * What the generator has written so far, as far as later lines depend on it: which mapping names are
 * bound and to which mapping (a line naming an unbound name would be a usage error), which slot layouts
 * it asked for, which mappings are unmapped (a {@code munmap} picks one that is still mapped), and which
 * pages a guest load may not touch (rule SHADOW_MMU_PREFETCH).
 */
final class FuzzState {
    /** A small pool, so that names get rebound and aliases happen. */
    static final List<String> NAMES = List.of("a", "b", "c", "d");

    /** The mapping a name is bound to: bindings are numbered; size in bytes, whole pages. */
    private record Binding(int id, long size) {
    }

    private final Map<String, Binding> mappings = new TreeMap<>();
    private final Set<Integer> unmapped = new HashSet<>();
    private int bindings;
    private final ExpectedSlots slots = new ExpectedSlots();
    /** Every non-empty good layout asked for, accepted or not, deleted since or not: targets for accesses. */
    private final List<SlotPlan> history = new ArrayList<>();
    private final PrefetchedPages prefetched = new PrefetchedPages();

    /** {@code name} now names a new mapping of {@code size} bytes. */
    void bind(String name, long size) {
        mappings.put(name, new Binding(bindings++, size));
    }

    /** A failed mmap leaves {@code name} unbound (ReplayNames). */
    void unbind(String name) {
        mappings.remove(name);
    }

    /** {@code name}'s mapping is unmapped; the name stays bound to its address. */
    void unmap(String name) {
        unmapped.add(binding(name).id());
    }

    boolean isBound(String name) {
        return mappings.containsKey(name);
    }

    List<String> boundNames() {
        return List.copyOf(mappings.keySet());
    }

    /** Bound names whose mapping is not unmapped. */
    List<String> mappedNames() {
        return mappings.entrySet().stream().filter(e -> !unmapped.contains(e.getValue().id()))
                .map(Map.Entry::getKey).toList();
    }

    long mappingSize(String name) {
        return binding(name).size();
    }

    /**
     * Whether {@code length} bytes at {@code hva} stay inside what a line may reach (rules HVA_IN_MAPPING
     * and RAW_HVAS_NEVER_MAPPED): inside the bound mapping, or inside the never-mapped first page.
     */
    boolean fits(HvaOperand hva, long length) {
        return switch (hva) {
            case HvaOperand.Named n -> {
                Binding b = mappings.get(n.name());
                yield b != null && Long.compareUnsigned(n.offset(), b.size()) <= 0
                        && Long.compareUnsigned(length, b.size() - n.offset()) <= 0;
            }
            case HvaOperand.Address a -> Long.compareUnsigned(a.value(), HostMemory.PAGE_SIZE) <= 0
                    && Long.compareUnsigned(length, HostMemory.PAGE_SIZE - a.value()) <= 0;
        };
    }

    /** Records a layout asked for that the argument checks accept; size 0 is a deletion. */
    void asked(SlotPlan plan) {
        HvaKey hva = HvaKey.of(plan.hva(), name -> binding(name).id());
        slots.apply(plan, hva);
        // Generated guest_memfd requests pass raw fds only, which never bind.
        prefetched.request(new SlotRequest(plan.slot(), plan.flags(), plan.gpa(), plan.size(), hva, false));
        if (plan.size() != 0) {
            history.add(plan);
        }
    }

    /** Whether a guest load at {@code gpa} keeps rule SHADOW_MMU_PREFETCH now. */
    boolean mayRead(long gpa) {
        return prefetched.mayRead(gpa);
    }

    /** Records a guest access at {@code gpa}: a store, or a load {@link #mayRead} allows. */
    void accessed(long gpa) {
        prefetched.accessed(gpa);
    }

    /** The slots the generator expects to exist. */
    List<SlotPlan> slots() {
        return slots.all();
    }

    Optional<SlotPlan> slot(int id) {
        return slots.get(id);
    }

    List<SlotPlan> history() {
        return history;
    }

    private Binding binding(String name) {
        Binding binding = mappings.get(name);
        if (binding == null) {
            throw new IllegalStateException("name not bound: " + name);
        }
        return binding;
    }
}
