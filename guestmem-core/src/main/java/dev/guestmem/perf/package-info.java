/**
 * The memslot_perf_test workloads (kernel-selftests.md §B) on any {@link dev.guestmem.vm.Vm}: the slot
 * geometry, the host/guest rendezvous, the six guest/host loop pairs and the timing harness, shared by the
 * {@code guestmem perf} command and the benchmarks.
 */
package dev.guestmem.perf;
