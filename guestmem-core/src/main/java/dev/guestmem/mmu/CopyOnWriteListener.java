package dev.guestmem.mmu;

/**
 * Told when a guest write fault's GUP turned a page that read as the shared zero page into the
 * process's own copy ({@code wp_page_copy} in the kernel). The kernel's page-table change fires the MMU
 * notifiers for that hva, which drops read-only SPTEs of the zero page in every aliasing slot; the engine's
 * host memory keeps one address for both, so the fault reports it here and the VM's notifier replays that
 * invalidation.
 */
@FunctionalInterface
public interface CopyOnWriteListener {
    /** Ignores the event. */
    CopyOnWriteListener NONE = (start, end) -> {
    };

    /**
     * The pages of {@code [start, end)} (page aligned: one page, or a 2 MiB frame that became a
     * transparent huge page) stopped being the zero page.
     */
    void copyOnWriteBroken(long start, long end);
}
