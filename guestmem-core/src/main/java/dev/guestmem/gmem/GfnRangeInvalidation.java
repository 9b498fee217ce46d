package dev.guestmem.gmem;

/**
 * Runs a change of guest memory inside an invalidation window over a gfn range, as the memory-attribute
 * update does ({@code kvm_handle_gfn_range} with {@code invalidate_begin}, the change, then
 * {@code invalidate_end}; spec §3.6, §5.7). The engine implements it with its MMU's gfn-range walker
 * ({@code EngineVm}); tests with a recording lambda.
 */
@FunctionalInterface
public interface GfnRangeInvalidation {
    /**
     * Zaps every mapping of {@code [startGfn, endGfn)} in every slot intersecting it, runs
     * {@code change}, and lets faults proceed again; with no slot in the range, only runs
     * {@code change}.
     *
     * @return whether any slot intersected (an invalidation window was opened)
     */
    boolean invalidate(long startGfn, long endGfn, Runnable change);
}
