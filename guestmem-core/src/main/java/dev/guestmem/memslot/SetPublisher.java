package dev.guestmem.memslot;

import static dev.guestmem.memslot.KvmLimits.GEN_UPDATE_IN_PROGRESS;

import dev.guestmem.sync.Srcu;

/**
 * The publication protocol both designs share ({@code kvm_swap_active_memslots}, spec §2.4/§2.5):
 * mark the incoming set's generation as in progress, store the active pointer through the
 * {@link PublishBarrier}, wait for a grace period, then finalise the generation.
 */
final class SetPublisher {
    private final int addressSpaces;
    private final Srcu srcu;
    private final PublishBarrier barrier;

    SetPublisher(int addressSpaces, Srcu srcu, PublishBarrier barrier) {
        if (addressSpaces < 1 || addressSpaces > KvmLimits.MAX_ADDRESS_SPACES) {
            throw new IllegalArgumentException("address spaces: " + addressSpaces);
        }
        this.addressSpaces = addressSpaces;
        this.srcu = srcu;
        this.barrier = barrier;
    }

    int addressSpaces() {
        return addressSpaces;
    }

    /**
     * Makes {@code incoming} (already edited by the writer) the active set in place of {@code current}.
     *
     * @param store the pointer store that publishes {@code incoming}; run exactly once, by the barrier
     * @param undo reverts the writer's edits of {@code incoming} if it was never published
     * @param afterGracePeriod runs once no reader can still see {@code current}, after the generation is final
     */
    void swap(AbstractMemslotSet current, AbstractMemslotSet incoming, Runnable store, Runnable undo,
            Runnable afterGracePeriod) {
        long generation = current.generation();
        if ((generation & GEN_UPDATE_IN_PROGRESS) != 0) {
            undo.run();
            throw new IllegalStateException("memslot update already in progress: " + current);
        }
        // The in-progress value is unique and never final, so whatever is cached under it misses later.
        incoming.setGeneration(generation | GEN_UPDATE_IN_PROGRESS);
        boolean[] published = new boolean[1];
        Throwable failure = null;
        try {
            barrier.publish(() -> {
                if (!published[0]) {
                    store.run();
                    published[0] = true;
                }
            });
        } catch (RuntimeException | Error e) {
            if (!published[0]) {
                undo.run();
                throw e;
            }
            // Published anyway: readers may hold the new set, so the protocol must still complete.
            failure = e;
        }
        if (!published[0]) {
            undo.run();
            throw new IllegalStateException("the publish barrier did not run the publication");
        }
        srcu.synchronize();
        incoming.setGeneration((incoming.generation() & ~GEN_UPDATE_IN_PROGRESS) + addressSpaces);
        afterGracePeriod.run();
        if (failure instanceof RuntimeException e) {
            throw e;
        }
        if (failure instanceof Error e) {
            throw e;
        }
    }
}
