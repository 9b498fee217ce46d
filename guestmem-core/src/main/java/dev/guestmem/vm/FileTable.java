package dev.guestmem.vm;

import java.util.List;
import java.util.TreeMap;

/**
 * The process's file-descriptor table as the engine sees it: fds handed out by the engine (guest_memfd
 * files) and nothing else, so an fd number the engine never issued is {@code EBADF}. Like a process,
 * it hands out the lowest free number, starting after stdin, stdout and stderr. Shared by every VM of
 * one process, which is what lets a guest_memfd of one VM be offered to another (and refused).
 */
public final class FileTable {
    private static final int FIRST_FD = 3;

    private final TreeMap<Integer, Object> files = new TreeMap<>();

    /** Installs {@code file} at the lowest free fd and returns it. */
    public synchronized int install(Object file) {
        int fd = FIRST_FD;
        for (int used : files.keySet()) {
            if (used != fd) {
                break;
            }
            fd++;
        }
        files.put(fd, file);
        return fd;
    }

    /** The file at {@code fd}, or {@code null} ({@code fget} failing). */
    public synchronized Object get(int fd) {
        return files.get(fd);
    }

    /** The open fds, ascending (a snapshot). */
    public synchronized List<Integer> fds() {
        return List.copyOf(files.keySet());
    }

    /** Removes and returns the file at {@code fd}, or {@code null} if the fd is not open. */
    public synchronized Object remove(int fd) {
        return files.remove(fd);
    }
}
