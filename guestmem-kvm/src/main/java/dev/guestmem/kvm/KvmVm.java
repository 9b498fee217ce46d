package dev.guestmem.kvm;

import dev.guestmem.Errno;
import dev.guestmem.gmem.GuestMemfd;
import dev.guestmem.host.HostMemory;
import dev.guestmem.memslot.MemslotFlags;
import dev.guestmem.vm.SlotInfo;
import dev.guestmem.vm.Vcpu;
import dev.guestmem.vm.Vm;
import dev.guestmem.vm.VmType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A VM on the real Linux KVM ({@code /dev/kvm}), behind the same {@link Vm} API as the engine: every
 * call is the ioctl of the same name and answers with the kernel's errno. Guest memory is the
 * {@link HostMemory} the VM was created over: its mappings are real mappings of this process, so their
 * addresses are handed to the kernel as they are.
 *
 * <p>What userspace cannot observe on real KVM:
 * <ul>
 *   <li>{@link #slot(int)} answers from a userspace mirror of the region calls the kernel accepted
 *       (there is no ioctl to read a memslot back);</li>
 *   <li>{@link #memslotGeneration(int)} is always -1 (the generation is kernel-internal).</li>
 * </ul>
 *
 * <p>Guest accesses run guest code in a memslot and at addresses this backend reserves
 * ({@link ReservedLayout}); the slot is created by the first guest access.
 *
 * <p>guest_memfd file operations ({@link #fallocate}, {@link #fstat}, {@link #close(int)},
 * {@link #mmap}) act only on fds this VM created with {@link #createGuestMemfd} and has not closed: any
 * other fd number answers {@code EBADF} as a closed fd would, so that a bad trace can never close or
 * modify a file of the JVM itself. The set-memory-region calls pass fds to the kernel unchanged (the
 * kernel only looks them up).
 *
 * <p>Thread-safe. After {@link #close()} every call answers {@code EIO}, like a dead VM.
 */
public final class KvmVm implements Vm {
    private static final int BITS_PER_WORD = Long.SIZE;

    private final HostMemory host;
    private final boolean ownsHost;
    private final VmType type;
    private final KvmVmFd vmFd;
    private final int vcpuMmapSize;
    private final SlotMirror mirror = new SlotMirror();
    private final ReservedMemslot reserved;
    private final Map<Integer, KvmVcpu> vcpus = new ConcurrentHashMap<>();
    /** guest_memfd fds this VM created and has not closed, with their creation flags; guarded by itself. */
    private final Map<Integer, Long> gmemFds = new HashMap<>();
    /** Private guest_memfd mappings made by {@link #mmap}: hva to length; guarded by {@link #gmemFds}. */
    private final Map<Long, Long> gmemMappings = new HashMap<>();
    private volatile boolean closed;

    /**
     * A new VM of {@code type} whose memslots are backed by {@code host}'s mappings; closing the VM
     * leaves {@code host} open.
     *
     * @throws KvmException if {@code /dev/kvm} cannot be opened or refuses the VM type
     */
    public KvmVm(HostMemory host, VmType type) {
        this(host, type, false);
    }

    private KvmVm(HostMemory host, VmType type, boolean ownsHost) {
        this.host = host;
        host.allowUntrackedWriters(); // the real guest stores into slot memory without HostMemory seeing it
        this.type = type;
        this.ownsHost = ownsHost;
        try (KvmDevice device = KvmDevice.open()) {
            int fd = KvmException.check(device.createVm(type.number()), "KVM_CREATE_VM type " + type.number());
            this.vmFd = new KvmVmFd(fd);
            this.vcpuMmapSize = device.vcpuMmapSize();
        }
        this.reserved = new ReservedMemslot(vmFd);
    }

    /** A VM with a host address space of its own, closed together with the VM. */
    public static KvmVm create(VmType type) {
        HostMemory host = new HostMemory();
        try {
            return new KvmVm(host, type, true);
        } catch (RuntimeException e) {
            host.close();
            throw e;
        }
    }

    @Override
    public VmType type() {
        return type;
    }

    @Override
    public HostMemory host() {
        return host;
    }

    @Override
    public long checkExtension(int capability) {
        return closed ? -Errno.EIO : vmFd.checkExtension(capability);
    }

    @Override
    public int setUserMemoryRegion(int slot, int flags, long guestPhysAddr, long memorySize, long userspaceAddr) {
        if (closed) {
            return Errno.EIO;
        }
        int errno = vmFd.setUserMemoryRegion(slot, flags, guestPhysAddr, memorySize, userspaceAddr);
        if (errno == 0) {
            mirror.accepted(slot, flags, guestPhysAddr, memorySize, userspaceAddr, 0);
        }
        return errno;
    }

    @Override
    public int setUserMemoryRegion2(int slot, int flags, long guestPhysAddr, long memorySize, long userspaceAddr,
            int guestMemfd, long guestMemfdOffset) {
        if (closed) {
            return Errno.EIO;
        }
        int errno = vmFd.setUserMemoryRegion2(slot, flags, guestPhysAddr, memorySize, userspaceAddr, guestMemfd,
                guestMemfdOffset);
        if (errno == 0) {
            // The offset means something only for guest_memfd slots; the kernel ignores it otherwise.
            long offset = (flags & MemslotFlags.GUEST_MEMFD) != 0 ? guestMemfdOffset : 0;
            mirror.accepted(slot, flags, guestPhysAddr, memorySize, userspaceAddr, offset);
        }
        return errno;
    }

    @Override
    public int createGuestMemfd(long size, long flags) {
        if (closed) {
            return -Errno.EIO;
        }
        int fd = vmFd.createGuestMemfd(size, flags);
        if (fd >= 0) {
            synchronized (gmemFds) {
                gmemFds.put(fd, flags);
            }
        }
        return fd;
    }

    @Override
    public Vcpu vcpu(int id) {
        if (closed) {
            throw new IllegalStateException("VM is closed");
        }
        return vcpus.computeIfAbsent(id, i -> new KvmVcpu(this, i));
    }

    /** The mirror's record of the slot (see the class comment): what userspace last set, not read back. */
    @Override
    public Optional<SlotInfo> slot(int slot) {
        return mirror.get(slot);
    }

    /** Not observable on real KVM: always -1. */
    @Override
    public long memslotGeneration(int asId) {
        return -1;
    }

    /**
     * {@code KVM_GET_DIRTY_LOG}: copies the slot's dirty bitmap into {@code bitmap} (page {@code i} is bit
     * {@code i % 64} of word {@code i / 64}); words past the slot's bitmap are zeroed, and a bitmap
     * shorter than the slot's receives its first {@code bitmap.length} words.
     *
     * @return 0 or errno ({@code ENOENT} without dirty logging, {@code EINVAL} for a bad slot id, ...)
     */
    public int getDirtyLog(int slot, long[] bitmap) {
        if (closed) {
            return Errno.EIO;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = bitmapBuffer(arena, slot, bitmap.length);
            int errno = vmFd.getDirtyLog(slot, buffer);
            if (errno == 0) {
                MemorySegment.copy(buffer, ValueLayout.JAVA_LONG, 0, bitmap, 0, bitmap.length);
            }
            return errno;
        }
    }

    /**
     * {@code KVM_CLEAR_DIRTY_LOG} of pages {@code [firstPage, firstPage + numPages)}: {@code bitmap}
     * holds the window's bits, bit 0 of word 0 being page {@code firstPage}.
     *
     * @param numPages the u32 {@code num_pages}
     * @return 0 or errno
     */
    public int clearDirtyLog(int slot, long firstPage, int numPages, long[] bitmap) {
        if (closed) {
            return Errno.EIO;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = bitmapBuffer(arena, slot, bitmap.length);
            MemorySegment.copy(bitmap, 0, buffer, ValueLayout.JAVA_LONG, 0, bitmap.length);
            return vmFd.clearDirtyLog(slot, firstPage, numPages, buffer);
        }
    }

    /**
     * A zeroed native bitmap of at least {@code words} words and at least the slot's whole bitmap: the
     * kernel copies {@code ALIGN(npages, 64) / 8} bytes whatever the caller's length (GET), or up to
     * that many (CLEAR, after checking the window against the slot), so a shorter buffer would be
     * overrun. The slot's size comes from the mirror; a slot the mirror does not know has no bitmap, and
     * the kernel fails before copying anything.
     */
    private MemorySegment bitmapBuffer(Arena arena, int slot, int words) {
        long slotWords = mirror.get(slot).map(s -> (s.npages() + BITS_PER_WORD - 1) / BITS_PER_WORD).orElse(0L);
        long length = Math.max(1, Math.max(words, slotWords));
        return arena.allocate(ValueLayout.JAVA_LONG, length);
    }

    /** {@code KVM_ENABLE_CAP(capability)} with {@code args[0] = arg0}, flags 0: 0 or errno. */
    public int enableCap(int capability, long arg0) {
        return closed ? Errno.EIO : vmFd.enableCap(capability, arg0);
    }

    /** {@code KVM_SET_MEMORY_ATTRIBUTES}: 0 or errno. */
    @Override
    public int setMemoryAttributes(long gpa, long size, long attributes, long flags) {
        return closed ? Errno.EIO : vmFd.setMemoryAttributes(gpa, size, attributes, flags);
    }

    /** {@code KVM_RESET_DIRTY_RINGS}: the number of entries reset, or {@code -errno}. */
    public int resetDirtyRings() {
        return closed ? -Errno.EIO : vmFd.resetDirtyRings();
    }

    /** {@code fallocate(2)} on guest_memfd {@code fd}; mode bits 1 KEEP_SIZE, 2 PUNCH_HOLE: 0 or errno. */
    @Override
    public int fallocate(int fd, int mode, long offset, long length) {
        synchronized (gmemFds) {
            return isOpenGmem(fd) ? -Syscalls.fallocate(fd, mode, offset, length) : closedFdErrno();
        }
    }

    /** {@code fstat(2)} on guest_memfd {@code fd}: its size in bytes, or {@code -errno}. */
    @Override
    public long fstat(int fd) {
        synchronized (gmemFds) {
            return isOpenGmem(fd) ? Syscalls.fstatSize(fd) : -closedFdErrno();
        }
    }

    /** {@code close(2)} of guest_memfd {@code fd}: 0 or errno. Its mappings stay valid, as in Linux. */
    @Override
    public int close(int fd) {
        synchronized (gmemFds) {
            if (!isOpenGmem(fd)) {
                return closedFdErrno();
            }
            gmemFds.remove(fd);
            return -Syscalls.close(fd);
        }
    }

    /**
     * {@code mmap(NULL, size, PROT_READ|PROT_WRITE, shared ? MAP_SHARED : MAP_PRIVATE, fd, 0)} of
     * guest_memfd {@code fd}: the address, or {@code -errno} ({@code ENODEV} without
     * {@code GUEST_MEMFD_FLAG_MMAP}, {@code EINVAL} for a private mapping).
     *
     * <p>A shared mapping is made in {@link #host()}, so host accesses reach it and stay crash-proof:
     * where the kernel would raise SIGBUS (past the end of the file, or anywhere in a file without
     * {@code GUEST_MEMFD_FLAG_INIT_SHARED}, whose memory is private) they raise
     * {@link dev.guestmem.host.HostFault}; it lives as long as the host address space. A private
     * mapping, which the kernel refuses, is tried outside it and unmapped by {@link #close()}.
     */
    @Override
    public long mmap(int fd, long size, boolean shared) {
        synchronized (gmemFds) {
            if (!isOpenGmem(fd)) {
                return -closedFdErrno();
            }
            if (shared) {
                long fileSize = Syscalls.fstatSize(fd);
                if (fileSize < 0) {
                    return fileSize;
                }
                boolean initShared = (gmemFds.get(fd) & GuestMemfd.FLAG_INIT_SHARED) != 0;
                return host.mmapShared(fd, size, initShared ? fileSize : 0);
            }
            long hva = Syscalls.mmap(size, Syscalls.PROT_READ | Syscalls.PROT_WRITE, Syscalls.MAP_PRIVATE, fd, 0);
            if (hva >= 0) {
                gmemMappings.put(hva, size);
            }
            return hva;
        }
    }

    /** Guarded by {@link #gmemFds}. */
    private boolean isOpenGmem(int fd) {
        return !closed && gmemFds.containsKey(fd);
    }

    /** A closed VM answers EIO; an fd that is not an open guest_memfd of this VM, EBADF. */
    private int closedFdErrno() {
        return closed ? Errno.EIO : Errno.EBADF;
    }

    boolean isClosed() {
        return closed;
    }

    KvmVmFd vmFd() {
        return vmFd;
    }

    int vcpuMmapSize() {
        return vcpuMmapSize;
    }

    ReservedMemslot reservedMemslot() {
        return reserved;
    }

    /**
     * Destroys the VM: closes the vCPUs, the guest_memfd fds still open (each pins the VM), unmaps the
     * guest_memfd mappings and the reserved memslot, closes the VM fd. The host mappings stay with the
     * host unless the VM owns it. Idempotent.
     */
    @Override
    public void close() {
        synchronized (gmemFds) {
            if (closed) {
                return;
            }
            closed = true;
            vcpus.values().forEach(KvmVcpu::close);
            gmemMappings.forEach(Syscalls::munmap);
            gmemMappings.clear();
            gmemFds.keySet().forEach(Syscalls::close);
            gmemFds.clear();
        }
        vmFd.close();
        reserved.close();
        if (ownsHost) {
            host.close();
        }
    }
}
