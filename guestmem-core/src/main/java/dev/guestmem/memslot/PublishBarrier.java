package dev.guestmem.memslot;

/**
 * Runs the publication of a new active memslot set. The MMU-notifier layer implements it to hold the
 * publish back while an invalidation is between start and end (spec §2.5 step 2), so start and end
 * always see the same slots.
 */
@FunctionalInterface
public interface PublishBarrier {
    /** Publishes directly: for VMs without notifier subscribers. */
    PublishBarrier NONE = Runnable::run;

    /** Runs {@code publish} when no invalidation is in flight, keeping new ones out until it returns. */
    void publish(Runnable publish);
}
