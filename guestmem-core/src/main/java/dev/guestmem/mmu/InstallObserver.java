package dev.guestmem.mmu;

/**
 * Test hook: told about every leaf a page fault installs, under the MMU lock, with the invalidation
 * sequence the fault snapshotted before resolving the page. An invariant checker uses it for I10 (no
 * fault installs a page invalidated after its snapshot, mmu.md §8.5).
 */
@FunctionalInterface
public interface InstallObserver {
    /** Observes nothing. */
    InstallObserver NONE = (gfn, hva, writable, mmuSeq) -> {
    };

    /** A fault installed a leaf for {@code gfn} mapping the host page at {@code hva}. */
    void installed(long gfn, long hva, boolean writable, long mmuSeq);
}
