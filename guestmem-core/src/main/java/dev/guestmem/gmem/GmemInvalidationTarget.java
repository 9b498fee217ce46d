package dev.guestmem.gmem;

import dev.guestmem.memslot.Memslot;

/**
 * What an invalidation of guest memory needs from the MMU, and nothing more: open an invalidation
 * window, zap gfn ranges of slots inside it, close it (spec §3.4, §5.5). The caller
 * ({@link GmemInvalidator}) decides which ranges and guarantees the shape of every window:
 * <ul>
 *   <li>{@link #begin()} once, then one or more {@link #zap} calls, then {@link #zapsDone()}, then the
 *       change itself (truncation), then {@link #end()} once: begin and end always pair up;</li>
 *   <li>no window is opened when no slot is concerned (so a hole punched where nothing is bound
 *       leaves the invalidation counters alone, spec §5.5);</li>
 *   <li>windows are not nested by one caller, but different callers' windows may overlap (the MMU
 *       counts them, as {@code mmu_invalidate_in_progress} does).</li>
 * </ul>
 */
public interface GmemInvalidationTarget {
    /**
     * {@code kvm_mmu_invalidate_begin}: a window opens; faults racing with it must retry until it has
     * closed.
     */
    void begin();

    /**
     * {@code kvm_mmu_unmap_gfn_range}: adds {@code [startGfn, endGfn)} (non-empty, inside {@code slot})
     * to the open window and removes every mapping of it that {@code filter} selects.
     */
    void zap(Memslot slot, long startGfn, long endGfn, ZapFilter filter);

    /**
     * The zaps of this window are done: flush TLBs if any zap needs it and let go of the MMU (the kernel
     * flushes, then drops {@code mmu_lock}, before truncating). When this returns, no vCPU may use a
     * zapped mapping any more.
     */
    void zapsDone();

    /** {@code kvm_mmu_invalidate_end}: the window closes; the sequence count moves on. */
    void end();

    /** A target for a VM whose guest accesses keep no mappings (no MMU): nothing to zap. */
    GmemInvalidationTarget NONE = new GmemInvalidationTarget() {
        @Override
        public void begin() {
        }

        @Override
        public void zap(Memslot slot, long startGfn, long endGfn, ZapFilter filter) {
        }

        @Override
        public void zapsDone() {
        }

        @Override
        public void end() {
        }
    };
}
