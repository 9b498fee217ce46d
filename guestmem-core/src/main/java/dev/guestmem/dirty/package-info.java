/**
 * Dirty logging (kvm-memory-spec §4, mmu.md §3): the two-half dirty bitmaps of logging memslots,
 * {@code mark_page_dirty_in_slot}, {@code KVM_GET_DIRTY_LOG} and {@code KVM_CLEAR_DIRTY_LOG} with manual
 * protection, the per-vCPU dirty rings and their reset, logging on/off as a FLAGS_ONLY memslot change,
 * and the VMM-side guest write API whose writes are logged too. The guarantee everything here serves:
 * no guest write to a logging slot is ever missing from what userspace harvests (INV-B).
 */
package dev.guestmem.dirty;
