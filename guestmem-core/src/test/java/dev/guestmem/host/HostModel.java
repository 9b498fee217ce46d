package dev.guestmem.host;

import static dev.guestmem.host.HostMemory.PAGE_SIZE;

import dev.guestmem.Errno;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Reference model of {@link HostMemory}: a map page → state, written for clarity, not speed. It
 * restates the Linux rules (argument checks of mm/mmap.c, mm/madvise.c, mm/mprotect.c) independently of
 * the implementation and knows nothing about areas, SRCU or system calls.
 */
final class HostModel {
    /** An invalidation the model expects, in the order expected. */
    record Event(String phase, long start, long end, InvalidationCause cause) {
    }

    /** What an access does: a value, or a fault of some kind at some address. */
    record Outcome(long value, HostFault.Kind fault, long faultHva) {
        static Outcome ok(long value) {
            return new Outcome(value, null, 0);
        }

        static Outcome fault(HostFault.Kind kind, long hva) {
            return new Outcome(0, kind, hva);
        }
    }

    private static final class Page {
        final long mmapId;
        Protection protection = Protection.READ_WRITE;
        boolean huge;
        boolean written;
        /** Word offset within the page → value; absent words read zero. */
        final Map<Long, Long> words = new HashMap<>();

        Page(long mmapId) {
            this.mmapId = mmapId;
        }
    }

    private final TreeMap<Long, Page> pages = new TreeMap<>();
    private final List<Event> events = new ArrayList<>();
    private long nextId;

    List<Event> events() {
        return events;
    }

    /** Records a mapping the implementation created at {@code hva}. */
    void mapped(long hva, long length) {
        long id = nextId++;
        long aligned = (length + PAGE_SIZE - 1) & -PAGE_SIZE;
        for (long page = hva; page < hva + aligned; page += PAGE_SIZE) {
            if (pages.put(page, new Page(id)) != null) {
                throw new AssertionError("mmap returned a page that is still mapped: 0x" + Long.toHexString(page));
            }
        }
    }

    int munmap(long hva, long length) {
        if ((hva & (PAGE_SIZE - 1)) != 0 || Long.compareUnsigned(hva, HostMemory.TASK_SIZE) > 0
                || Long.compareUnsigned(length, HostMemory.TASK_SIZE - hva) > 0) {
            return Errno.EINVAL;
        }
        long end = hva + ((length + PAGE_SIZE - 1) & -PAGE_SIZE);
        if (end == hva) {
            return Errno.EINVAL;
        }
        if (pages.subMap(hva, end).isEmpty()) {
            return 0;
        }
        events.add(new Event("start", hva, end, InvalidationCause.UNMAP));
        pages.subMap(hva, end).clear();
        events.add(new Event("end", hva, end, InvalidationCause.UNMAP));
        return 0;
    }

    int mprotect(long hva, long length, Protection protection) {
        if ((hva & (PAGE_SIZE - 1)) != 0) {
            return Errno.EINVAL;
        }
        if (length == 0) {
            return 0;
        }
        long end = hva + ((length + PAGE_SIZE - 1) & -PAGE_SIZE);
        if (Long.compareUnsigned(end, hva) <= 0) {
            return Errno.ENOMEM;
        }
        long prefixEnd = hva;
        while (prefixEnd < end && pages.containsKey(prefixEnd)) {
            prefixEnd += PAGE_SIZE;
        }
        if (prefixEnd == hva) {
            return Errno.ENOMEM;
        }
        // Each run of pages whose protection changes is told; pages that have it already are not.
        changeRuns(hva, prefixEnd, page -> page.protection != protection, page -> page.protection = protection,
                InvalidationCause.PROTECT);
        return prefixEnd == end ? 0 : Errno.ENOMEM;
    }

    int madvise(long hva, long length, Advice advice) {
        if ((hva & (PAGE_SIZE - 1)) != 0) {
            return Errno.EINVAL;
        }
        long aligned = (length + PAGE_SIZE - 1) & -PAGE_SIZE;
        if (length != 0 && aligned == 0) {
            return Errno.EINVAL;
        }
        long end = hva + aligned;
        if (Long.compareUnsigned(end, hva) < 0) {
            return Errno.EINVAL;
        }
        if (end == hva) {
            return 0;
        }
        boolean hole = false;
        long page = hva;
        while (page < end) {
            if (!pages.containsKey(page)) {
                hole = true;
                page += PAGE_SIZE;
                continue;
            }
            long runStart = page;
            while (page < end && pages.containsKey(page)) {
                page += PAGE_SIZE;
            }
            applyAdvice(runStart, page, advice);
        }
        return hole ? Errno.ENOMEM : 0;
    }

    private void applyAdvice(long start, long end, Advice advice) {
        if (advice == Advice.DONTNEED) {
            events.add(new Event("start", start, end, InvalidationCause.DISCARD));
        }
        for (Page page : pages.subMap(start, end).values()) {
            switch (advice) {
                case DONTNEED -> {
                    page.words.clear();
                    page.written = false;
                }
                case HUGEPAGE -> page.huge = true;
                case NOHUGEPAGE -> page.huge = false;
            }
        }
        if (advice == Advice.DONTNEED) {
            events.add(new Event("end", start, end, InvalidationCause.DISCARD));
        }
    }

    /** {@link HostMemory#close()}: one unmap per run of contiguous mapped pages. */
    void close() {
        while (!pages.isEmpty()) {
            long start = pages.firstKey();
            long end = start;
            while (pages.containsKey(end)) {
                end += PAGE_SIZE;
            }
            munmap(start, end - start);
        }
    }

    private Page page(long hva) {
        return hva < 0 ? null : pages.get(hva & -PAGE_SIZE);
    }

    /** The fault an access to {@code hva} takes, or null. */
    private HostFault.Kind faultAt(long hva, boolean write) {
        Page page = page(hva);
        if (page == null) {
            return HostFault.Kind.UNMAPPED;
        }
        boolean allowed = write ? page.protection.allowsWrite() : page.protection.allowsRead();
        return allowed ? null : HostFault.Kind.PROTECTION;
    }

    Outcome read64(long hva) {
        HostFault.Kind fault = faultAt(hva, false);
        if (fault != null) {
            return Outcome.fault(fault, hva);
        }
        return Outcome.ok(page(hva).words.getOrDefault(hva & (PAGE_SIZE - 1), 0L));
    }

    Outcome write64(long hva, long value) {
        HostFault.Kind fault = faultAt(hva, true);
        if (fault != null) {
            return Outcome.fault(fault, hva);
        }
        breakCopyOnWrite(hva, hva + 8);
        page(hva).words.put(hva & (PAGE_SIZE - 1), value);
        return Outcome.ok(0);
    }

    /** A store's first write to never-written pages: one copy-on-write invalidation per run of them. */
    private void breakCopyOnWrite(long start, long end) {
        changeRuns(start & -PAGE_SIZE, end, page -> !page.written, page -> page.written = true,
                InvalidationCause.COPY_ON_WRITE);
    }

    /**
     * Applies {@code change} to the mapped pages from {@code start} (page aligned) below {@code end} that
     * {@code changes} accepts, telling each maximal run of them as one invalidation.
     */
    private void changeRuns(long start, long end, Predicate<Page> changes, Consumer<Page> change,
            InvalidationCause cause) {
        long page = start;
        while (page < end) {
            long runEnd = page;
            while (runEnd < end && changes.test(pages.get(runEnd))) {
                change.accept(pages.get(runEnd));
                runEnd += PAGE_SIZE;
            }
            if (runEnd == page) {
                page += PAGE_SIZE;
                continue;
            }
            events.add(new Event("start", page, runEnd, cause));
            events.add(new Event("end", page, runEnd, cause));
            page = runEnd;
        }
    }

    /** The first inaccessible byte of {@code [hva, hva + length)} as a fault outcome, or null. */
    Outcome checkRange(long hva, long length, boolean write) {
        for (long at = hva; at < hva + length; at = (at & -PAGE_SIZE) + PAGE_SIZE) {
            HostFault.Kind fault = faultAt(at, write);
            if (fault != null) {
                return Outcome.fault(fault, at);
            }
        }
        return null;
    }

    /** Bulk write of {@code values} as consecutive words from the 8-byte aligned {@code hva}. */
    Outcome write(long hva, long[] values) {
        Outcome fault = checkRange(hva, 8L * values.length, true);
        if (fault != null) {
            return fault;
        }
        if (values.length == 0) {
            return Outcome.ok(0);
        }
        breakCopyOnWrite(hva, hva + 8L * values.length);
        for (int i = 0; i < values.length; i++) {
            write64(hva + 8L * i, values[i]);
        }
        return Outcome.ok(0);
    }

    /** Resolve: the outcome's value is 1 when the page would be mapped writable, else 0. */
    Outcome resolvePage(long hva, boolean write) {
        HostFault.Kind fault = faultAt(hva, write);
        if (fault != null) {
            return Outcome.fault(fault, hva);
        }
        Page page = page(hva);
        if (write) {
            page.written = true;
        }
        return Outcome.ok(page.protection.allowsWrite() && (write || page.written) ? 1 : 0);
    }

    Optional<Protection> protectionAt(long hva) {
        Page page = page(hva);
        return page == null ? Optional.empty() : Optional.of(page.protection);
    }

    boolean isHugeAdvised(long hva) {
        Page page = page(hva);
        return page != null && page.huge;
    }

    boolean isWrittenSinceDiscard(long hva) {
        Page page = page(hva);
        return page != null && page.written;
    }

    Optional<MappingInfo> mappingAt(long hva) {
        Page page = page(hva);
        if (page == null) {
            return Optional.empty();
        }
        long start = hva & -PAGE_SIZE;
        while (page(start - PAGE_SIZE) != null && page(start - PAGE_SIZE).mmapId == page.mmapId) {
            start -= PAGE_SIZE;
        }
        long end = (hva & -PAGE_SIZE) + PAGE_SIZE;
        while (page(end) != null && page(end).mmapId == page.mmapId) {
            end += PAGE_SIZE;
        }
        return Optional.of(new MappingInfo(start, end - start));
    }
}
