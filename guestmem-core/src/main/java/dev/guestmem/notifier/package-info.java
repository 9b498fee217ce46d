/**
 * MMU-notifier invalidation (kvm-memory-spec §3): the notifier a VM subscribes to its host address space
 * ({@link dev.guestmem.notifier.MmuNotifier}), the count of invalidations in flight that memslot
 * publications wait for ({@link dev.guestmem.notifier.ActiveInvalidations}), the one walker over the
 * memslots of an hva or gfn range shared by the notifier, the hva-range operator and memory attributes
 * ({@link dev.guestmem.notifier.RangeWalker}), and guest_memfd invalidations on the MMU
 * ({@link dev.guestmem.notifier.GmemMmuInvalidation}).
 */
package dev.guestmem.notifier;
