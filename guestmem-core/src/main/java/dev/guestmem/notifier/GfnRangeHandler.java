package dev.guestmem.notifier;

/**
 * The per-slot work of a range walk. Returns a positive value for "true" (a TLB flush is needed, or the
 * range was young), 0 for "false", or a negative errno, which stops the walk at once and becomes the
 * walk's error (the error code and early bail-out of the hva-range operator, kvm-memory-spec §3.7).
 */
@FunctionalInterface
public interface GfnRangeHandler {
    int handle(GfnRange range);
}
