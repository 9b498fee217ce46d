package dev.guestmem.gmem;

import dev.guestmem.memslot.Memslot;

/**
 * Invalidation of a range of guest_memfd pages in the slots bound to them
 * ({@code __kvm_gmem_invalidate_begin} / {@code _end}, spec §5.5): which gfns to zap, and whether to open
 * an invalidation window at all.
 *
 * <p>Two rules, each the fix of a known bug class (spec §5.5):
 * <ul>
 *   <li><b>Clamp to the binding.</b> A slot bound at page {@code pgoff} for {@code npages} pages loses
 *       exactly the gfns of the intersection of the file range with its binding:
 *       {@code base + max(pgoff, start) - pgoff} up to {@code base + min(pgoff + npages, end) - pgoff}.
 *       Translating the file range without clamping would zap gfns below the slot (when the range starts
 *       before the binding) or past it, possibly in other slots (when it ends after it).</li>
 *   <li><b>Begin and end on the same predicate.</b> The window is opened only if at least one binding
 *       intersects the range, and then closed exactly once; a range with no binding touches no counter
 *       (an unconditional begin with a conditional end leaves the window open forever).</li>
 * </ul>
 * The caller holds the file's invalidate lock exclusively, so the bindings cannot change in between.
 */
public final class GmemInvalidator {
    private final GmemInvalidationTarget target;

    /** An invalidator zapping through {@code target}. */
    public GmemInvalidator(GmemInvalidationTarget target) {
        this.target = target;
    }

    /**
     * The gfns of {@code slot} backed by file pages {@code [start, end)}: the clamped range above, empty
     * when the range misses the slot's binding. Unsigned throughout, so {@code end} may be all ones.
     */
    public static GfnRange clamp(Memslot slot, long start, long end) {
        long pgoff = slot.gmem().pgoff();
        long bindingEnd = pgoff + slot.npages();
        long first = Long.compareUnsigned(pgoff, start) >= 0 ? pgoff : start;
        long last = Long.compareUnsigned(bindingEnd, end) <= 0 ? bindingEnd : end;
        if (Long.compareUnsigned(first, last) >= 0) {
            return new GfnRange(slot.baseGfn(), slot.baseGfn());
        }
        return new GfnRange(slot.baseGfn() + first - pgoff, slot.baseGfn() + last - pgoff);
    }

    /**
     * Invalidates file pages {@code [start, end)}: if any slot of {@code bound} has a binding
     * intersecting them, opens a window, zaps each such slot's clamped gfns with {@code filter}, runs
     * {@code change} (the truncation, if any), and closes the window; otherwise only runs
     * {@code change}.
     *
     * @param bound the slots bound to the file (those missing the range are skipped)
     * @return whether a window was opened
     */
    public boolean invalidate(Iterable<Memslot> bound, long start, long end, ZapFilter filter, Runnable change) {
        ZapPlan plan = new ZapPlan();
        for (Memslot slot : bound) {
            plan.add(slot, clamp(slot, start, end));
        }
        return plan.run(target, filter, change);
    }
}
