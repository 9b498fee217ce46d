/**
 * The TDP MMU of the engine (mmu.md §1–§6): EPT-format SPTEs ({@link dev.guestmem.mmu.Spte}) in
 * five-level trees of {@code long[512]} tables ({@link dev.guestmem.mmu.PageTable}), the page-fault path
 * ({@link dev.guestmem.mmu.FaultHandler}: lockless fast path, slow path under the read lock with the
 * invalidation-sequence retry), and the tree operations ({@link dev.guestmem.mmu.TdpMmu}: zaps, kind-A and
 * kind-B write protection, aging, huge-page recovery).
 *
 * <p>Design choices, each faithful to one kernel path:
 * <ul>
 *   <li><b>Memslot DELETE/MOVE</b> zap every SPTE, as x86 does by default
 *       ({@code KVM_X86_QUIRK_SLOT_ZAP_ALL}: the effect of the fast zap, without a second root), or with
 *       the quirk off only the slot's gfn range ({@code kvm_mmu_zap_memslot}); stale MMIO SPTEs die by
 *       their generation.</li>
 *   <li><b>Page-table memory</b> is RCU-protected: an unlinked table is freed only after the remote flush
 *       and a grace period of {@link dev.guestmem.sync.Rcu}, and is poisoned when freed so a stale access
 *       throws instead of reading a recycled table. Non-leaf SPTEs hold a tagged handle of the table
 *       registry, not an address.</li>
 *   <li><b>The pfn</b> of a leaf is the host page's address {@code >> 12}, which is what the vCPUs access
 *       memory at; the zero page and its private copy share that address, so the write fault that breaks
 *       copy-on-write replays the kernel's notifier invalidation of the page
 *       ({@link dev.guestmem.mmu.CopyOnWriteListener}), and a leaf never flips Host-writable in place.</li>
 * </ul>
 * Test knobs (schedule points, fault injection, an install observer) come in through
 * {@link dev.guestmem.mmu.MmuOptions}; the default costs nothing on the access path.
 */
package dev.guestmem.mmu;
