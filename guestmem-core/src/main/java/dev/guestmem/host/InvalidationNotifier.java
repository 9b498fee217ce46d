package dev.guestmem.host;

import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The registered {@link InvalidationListener}s and the broadcast of one invalidation to all of them.
 * {@link HostMemory} adds and removes listeners under its address-space lock, the lock every
 * invalidation holds from start to end, so each listener sees balanced start/end pairs (unless it
 * unregisters itself from inside a callback).
 */
final class InvalidationNotifier {
    private final CopyOnWriteArrayList<InvalidationListener> listeners = new CopyOnWriteArrayList<>();

    void add(InvalidationListener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    void remove(InvalidationListener listener) {
        listeners.remove(listener);
    }

    void start(long start, long end, InvalidationCause cause) {
        for (InvalidationListener listener : listeners) {
            listener.invalidateRangeStart(start, end, cause);
        }
    }

    void end(long start, long end, InvalidationCause cause) {
        for (InvalidationListener listener : listeners) {
            listener.invalidateRangeEnd(start, end, cause);
        }
    }
}
