package dev.guestmem.host;

import java.lang.foreign.MemorySegment;
import java.util.Optional;

/** PLACEHOLDER SIGNATURES: being implemented. */
public final class HostMemory implements AutoCloseable {
    public HostMemory() {
    }

    /** Anonymous private read-write mapping with MAP_NORESERVE: its hva, or -errno. */
    public long mmap(long length) {
        throw new UnsupportedOperationException();
    }

    public int munmap(long hva, long length) {
        throw new UnsupportedOperationException();
    }

    public int madvise(long hva, long length, Advice advice) {
        throw new UnsupportedOperationException();
    }

    public int mprotect(long hva, long length, Protection protection) {
        throw new UnsupportedOperationException();
    }

    public long read64(long hva) {
        throw new UnsupportedOperationException();
    }

    public void write64(long hva, long value) {
        throw new UnsupportedOperationException();
    }

    public void read(long hva, MemorySegment dst) {
        throw new UnsupportedOperationException();
    }

    public void write(long hva, MemorySegment src) {
        throw new UnsupportedOperationException();
    }

    public HostPage resolvePage(long hva, boolean write) {
        throw new UnsupportedOperationException();
    }

    public Optional<MappingInfo> mappingAt(long hva) {
        throw new UnsupportedOperationException();
    }

    public void addInvalidationListener(InvalidationListener listener) {
        throw new UnsupportedOperationException();
    }

    public void removeInvalidationListener(InvalidationListener listener) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void close() {
    }
}
