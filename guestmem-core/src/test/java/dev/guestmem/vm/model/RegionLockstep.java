package dev.guestmem.vm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.guestmem.Errno;
import dev.guestmem.gmem.GuestMemfd;
import dev.guestmem.memslot.GmemBinding;
import dev.guestmem.memslot.Memslot;
import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.memslot.MemslotSet;
import dev.guestmem.memslot.MemslotStore;
import dev.guestmem.memslot.PublishBarrier;
import dev.guestmem.memslot.VcpuSlotCache;
import dev.guestmem.sync.Srcu;
import dev.guestmem.vm.EngineVm;
import dev.guestmem.vm.FileTable;
import dev.guestmem.vm.RegionRequest;
import dev.guestmem.vm.SlotInfo;
import dev.guestmem.vm.VmConfig;
import dev.guestmem.vm.VmType;
import dev.guestmem.vm.model.ReferenceMemslots.Change;
import dev.guestmem.vm.model.ReferenceMemslots.FileKind;
import dev.guestmem.vm.model.ReferenceMemslots.Mutation;
import dev.guestmem.vm.model.ReferenceMemslots.Slot;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The state of one lockstep run: an {@link EngineVm} and a {@link ReferenceMemslots} receiving the same
 * set-memory-region calls, plus a shadow {@link MemslotStore} of the same design that is fed the model's
 * changes through the public store API, so that the store's gfn/hva lookups (which {@code EngineVm} does
 * not expose) are compared with the model too.
 *
 * <p>Files: an 8-page guest_memfd, a 2 MiB + 4 page guest_memfd created with {@code MMAP} (its slots are
 * gmem-only), a guest_memfd of another VM sharing the file table, a file that is no guest_memfd, and an
 * fd that is never open.
 */
public final class RegionLockstep {
    /** The ids every check looks at: the generator's pool plus the edge ids (which can never exist). */
    static final int[] CHECKED_IDS = {0, 1, 2, 3, 4, 5, 6, 7, 32763, 32764, 32766, 0xFFFF};
    /** An fd number the file table never hands out in a run. */
    static final int NEVER_OPEN_FD = 1000;
    static final long SMALL_GMEM_SIZE = 8 * ReferenceMemslots.PAGE;
    static final long MMAP_GMEM_SIZE = 0x200000 + 4 * ReferenceMemslots.PAGE;

    /** Which file a request names in its guest_memfd field. */
    public enum FdRole {
        SMALL, MMAP, FOREIGN, NOT_GMEM, NEVER_OPEN, MINUS_ONE
    }

    private final VmType type;
    private final MemslotImpl impl;
    private final FileTable files = new FileTable();
    private final EngineVm vm;
    private final EngineVm foreignVm;
    private final ReferenceMemslots model;
    private final Srcu shadowSrcu = new Srcu();
    private final MemslotStore shadow;
    private final VcpuSlotCache[] vcpuCaches;
    private final int smallFd;
    private final int mmapFd;
    private final int foreignFd;
    private final int notGmemFd;
    private final Object shadowFile = new Object();
    /** guest_memfds whose bindings every check compares: fd and size. */
    private final List<long[]> checkedFiles = new ArrayList<>();
    private int calls;
    private final Map<String, Integer> ruleCounts = new TreeMap<>();

    private RegionLockstep(VmConfig config, Mutation mutation) {
        VmType type = config.type();
        MemslotImpl impl = config.impl();
        this.type = type;
        this.impl = impl;
        this.vm = new EngineVm(null, files, config);
        this.foreignVm = new EngineVm(null, files, config);
        this.model = new ReferenceMemslots(type, config.smm(), mutation);
        this.shadow = impl.create(model.addressSpaces(), shadowSrcu, PublishBarrier.NONE);
        this.vcpuCaches = new VcpuSlotCache[model.addressSpaces()];
        for (int as = 0; as < vcpuCaches.length; as++) {
            vcpuCaches[as] = new VcpuSlotCache();
        }
        smallFd = vm.createGuestMemfd(SMALL_GMEM_SIZE, 0);
        mmapFd = vm.createGuestMemfd(MMAP_GMEM_SIZE, GuestMemfd.FLAG_MMAP);
        foreignFd = foreignVm.createGuestMemfd(SMALL_GMEM_SIZE, 0);
        notGmemFd = files.install("not a guest_memfd");
        assertTrue(smallFd >= 0 && mmapFd >= 0 && foreignFd >= 0, "guest_memfd creation failed");
        model.openFile(smallFd, FileKind.GUEST_MEMFD, SMALL_GMEM_SIZE, 0);
        model.openFile(mmapFd, FileKind.GUEST_MEMFD, MMAP_GMEM_SIZE, GuestMemfd.FLAG_MMAP);
        model.openFile(foreignFd, FileKind.FOREIGN_GUEST_MEMFD, SMALL_GMEM_SIZE, 0);
        model.openFile(notGmemFd, FileKind.OTHER, 0, 0);
        checkedFiles.add(new long[] {smallFd, SMALL_GMEM_SIZE});
        checkedFiles.add(new long[] {mmapFd, MMAP_GMEM_SIZE});
    }

    /** Creates one more guest_memfd of this VM, known to the model and compared by every check. */
    public int createGuestMemfd(long size, long flags) {
        int fd = vm.createGuestMemfd(size, flags);
        assertTrue(fd >= 0, "guest_memfd creation failed: " + fd);
        model.openFile(fd, FileKind.GUEST_MEMFD, size, flags);
        checkedFiles.add(new long[] {fd, size});
        return fd;
    }

    /** A lockstep on a host KVM with SMM, so default VMs have two address spaces to tell apart. */
    public static RegionLockstep start(VmType type, MemslotImpl impl) {
        return start(type, impl, Mutation.NONE);
    }

    public static RegionLockstep start(VmType type, MemslotImpl impl, Mutation mutation) {
        return new RegionLockstep(VmConfig.of(type, impl).withSmm(), mutation);
    }

    /** A lockstep configured like the reference kernel that recorded the traces (no SMM). */
    public static RegionLockstep likeReferenceKernel(VmType type, MemslotImpl impl) {
        return new RegionLockstep(VmConfig.of(type, impl), Mutation.NONE);
    }

    /** The model's slots and generations, to tell whether a call changed anything. */
    String fingerprint() {
        StringBuilder text = new StringBuilder();
        for (int as = 0; as < model.addressSpaces(); as++) {
            text.append(model.generation(as)).append(model.slots(as)).append(';');
        }
        return text.toString();
    }

    /** How often each rule of the model decided a call in this run. */
    public Map<String, Integer> ruleCounts() {
        return ruleCounts;
    }

    public ReferenceMemslots model() {
        return model;
    }

    public EngineVm vm() {
        return vm;
    }

    public int fd(FdRole role) {
        return switch (role) {
            case SMALL -> smallFd;
            case MMAP -> mmapFd;
            case FOREIGN -> foreignFd;
            case NOT_GMEM -> notGmemFd;
            case NEVER_OPEN -> NEVER_OPEN_FD;
            case MINUS_ONE -> -1;
        };
    }

    public FdRole role(int fd) {
        for (FdRole role : FdRole.values()) {
            if (fd(role) == fd) {
                return role;
            }
        }
        throw new IllegalArgumentException("unknown fd " + fd);
    }

    /** Sends {@code g} to the engine and the model and checks errno and generations. */
    public void apply(GeneratedRequest g) {
        apply(g.resolve(this), g.toString());
    }

    /** Sends {@code r} to the engine and the model and checks errno and generations. */
    public int apply(RegionRequest r, String description) {
        calls++;
        int n = model.addressSpaces();
        long[] before = engineGenerations();
        int engineErr = vm.setRegion(r);
        int modelErr = model.setRegion(r);
        if (engineErr != modelErr) {
            fail("call " + calls + " (" + description + "): engine " + name(engineErr) + ", model " + name(modelErr)
                    + "\n  model slots: " + model.allSlots());
        }
        ruleCounts.merge(model.lastRule(), 1, Integer::sum);
        Change change = model.lastChange();
        mirrorIntoShadow(r, change);
        long[] after = engineGenerations();
        for (int as = 0; as < n; as++) {
            long delta = after[as] - before[as];
            // A failed call publishes nothing, except a MOVE refused after its INVALID step.
            long expected = as == r.asId() ? (long) change.publishes() * n : 0;
            if (delta != expected) {
                fail("call " + calls + " (" + description + ") -> " + name(engineErr) + " " + change
                        + ": generation of AS " + as + " moved by " + delta + ", expected " + expected);
            }
        }
        return engineErr;
    }

    private long[] engineGenerations() {
        long[] g = new long[model.addressSpaces()];
        for (int as = 0; as < g.length; as++) {
            g[as] = vm.memslotGeneration(as);
        }
        return g;
    }

    private static String name(int errno) {
        return errno == 0 ? "ok" : Errno.name(errno);
    }

    /** Replays the model's change on the shadow store with the same publishes the engine makes. */
    private void mirrorIntoShadow(RegionRequest r, Change change) {
        int as = r.asId();
        int id = r.id();
        switch (change) {
            case NONE -> {
            }
            case CREATE, FLAGS_ONLY -> shadow.install(as, id, toMemslot(model.slot(as, id).orElseThrow()));
            case MOVE -> {
                shadow.install(as, id, shadowById(as, id).invalidCopy());
                shadow.install(as, id, toMemslot(model.slot(as, id).orElseThrow()));
            }
            case REFUSED_MOVE -> {
                Memslot old = shadowById(as, id);
                shadow.install(as, id, old.invalidCopy());
                shadow.install(as, id, old);
            }
            case DELETE -> {
                shadow.install(as, id, shadowById(as, id).invalidCopy());
                shadow.install(as, id, null);
            }
        }
    }

    private Memslot shadowById(int as, int id) {
        int token = shadowSrcu.readLock();
        try {
            return shadow.active(as).byId(id);
        } finally {
            shadowSrcu.readUnlock(token);
        }
    }

    private Memslot toMemslot(Slot s) {
        GmemBinding binding = s.hasGmem() ? new GmemBinding(shadowFile, s.gmemPgoff()) : null;
        return new Memslot(s.asId(), s.id(), s.baseGfn(), s.npages(), s.flags(), s.userspaceAddr(), binding);
    }

    /**
     * The state agreement checked after every call: every slot of every address space (through
     * {@code vm.slot}), generations, guest_memfd bindings, and the shadow store's lookups.
     */
    public void checkAgreement() {
        for (int as = 0; as <= 2; as++) {
            for (int id : CHECKED_IDS) {
                int word = as << 16 | id;
                Optional<SlotInfo> expected = model.slot(as, id).map(Slot::info);
                Optional<SlotInfo> actual = vm.slot(word);
                if (!expected.equals(actual)) {
                    fail("after call " + calls + ": slot 0x" + Integer.toHexString(word) + " engine " + actual
                            + ", model " + expected);
                }
            }
        }
        for (int as = 0; as < model.addressSpaces(); as++) {
            assertEquals(model.generation(as), vm.memslotGeneration(as), "generation of AS " + as);
        }
        for (long[] file : checkedFiles) {
            checkBindings((int) file[0], file[1]);
        }
        checkShadowLookups();
    }

    private void checkBindings(int fd, long size) {
        GuestMemfd file = (GuestMemfd) files.get(fd);
        int pages = (int) (size / ReferenceMemslots.PAGE);
        int[] expected = model.boundSlotWords(fd, pages);
        for (int page = 0; page < pages; page++) {
            Memslot bound = file.slotAt(page);
            int actual = bound == null ? 0 : bound.slotWord() + 1;
            if (actual != expected[page]) {
                fail("after call " + calls + ": guest_memfd " + fd + " page " + page + " bound to slot word "
                        + (actual - 1) + ", model " + (expected[page] - 1) + " (-1: none)");
            }
        }
    }

    /** gfns worth probing: small gfns, the generator's grid, edges, and around every slot's boundaries. */
    private TreeSet<Long> probeGfns() {
        TreeSet<Long> probes = new TreeSet<>(Long::compareUnsigned);
        for (long g = 0; g <= 20; g++) {
            probes.add(g);
        }
        for (long g : new long[] {0x1ff, 0x200, 0x201, 0x3ff, 0x400, 0x401, 0x600, 0x7ffffffeL, 0x7fffffffL,
                0x80000000L, 0xfffffffffffffL, 0xffffffffffffeL, 0x10000000000000L, -1L, Long.MIN_VALUE}) {
            probes.add(g);
        }
        for (Slot s : model.allSlots()) {
            for (long d = -1; d <= 1; d++) {
                probes.add(s.baseGfn() + d);
                probes.add(s.endGfn() + d);
            }
        }
        return probes;
    }

    private void checkShadowLookups() {
        TreeSet<Long> probes = probeGfns();
        int token = shadowSrcu.readLock();
        try {
            for (int as = 0; as < model.addressSpaces(); as++) {
                MemslotSet set = shadow.active(as);
                String where = "after call " + calls + ", shadow " + impl + " AS " + as + ": ";
                assertEquals(model.generation(as), set.generation(), where + "generation");
                List<Slot> ordered = model.slots(as);
                assertEquals(ordered.size(), set.size(), where + "size");
                assertEquals(describe(ordered), describeSlots(set.all()), where + "all()");
                for (int id : CHECKED_IDS) {
                    assertEquals(model.slot(as, id).map(RegionLockstep::describe).orElse(null),
                            describe(set.byId(id)), where + "byId(" + id + ")");
                }
                for (long gfn : probes) {
                    String expected = model.slotContaining(as, gfn).map(RegionLockstep::describe).orElse(null);
                    String gfnText = "gfn 0x" + Long.toHexString(gfn);
                    assertEquals(expected, describe(set.lookup(gfn)), where + "lookup " + gfnText);
                    assertEquals(expected, describe(set.lookup(gfn, vcpuCaches[as])),
                            where + "vCPU lookup " + gfnText);
                    assertEquals(expected, describe(set.search(gfn, false)), where + "search " + gfnText);
                    checkApproximateSearch(as, set, gfn, expected, where + "approx search " + gfnText);
                }
                List<Long> probeList = new ArrayList<>(probes);
                for (long start : probeList) {
                    for (long length : new long[] {1, 2, 5, 0x200, 0x7fffffffL}) {
                        long end = start + length;
                        if (Long.compareUnsigned(end, start) <= 0) {
                            continue;
                        }
                        assertEquals(describe(model.slotsMeetingGfns(as, start, end)),
                                describeSlots(set.inGfnRange(start, end)),
                                where + "inGfnRange [0x" + Long.toHexString(start) + ", 0x" + Long.toHexString(end)
                                        + ")");
                    }
                }
                assertEquals(describe(ordered), describeSlots(set.inGfnRange(0, -1L)), where + "inGfnRange all");
                checkHvaRanges(as, set, where);
            }
        } finally {
            shadowSrcu.readUnlock(token);
        }
    }

    private void checkApproximateSearch(int as, MemslotSet set, long gfn, String exact, String what) {
        String found = describe(set.search(gfn, true));
        if (exact != null) {
            assertEquals(exact, found, what);
            return;
        }
        if (model.slots(as).isEmpty()) {
            assertNull(found, what);
            return;
        }
        // Spec §2.2: one of the two slots bordering the hole, unspecified which.
        String below = model.slotBelow(as, gfn).map(RegionLockstep::describe).orElse(null);
        String above = model.slotAbove(as, gfn).map(RegionLockstep::describe).orElse(null);
        assertTrue(found != null && (found.equals(below) || found.equals(above)),
                what + ": " + found + " borders no hole (below " + below + ", above " + above + ")");
    }

    private void checkHvaRanges(int as, MemslotSet set, String where) {
        TreeSet<Long> hvas = new TreeSet<>(Long::compareUnsigned);
        hvas.add(0L);
        hvas.add(ReferenceMemslots.USER_TOP);
        for (Slot s : model.allSlots()) {
            hvas.add(s.userspaceAddr());
            hvas.add(s.userspaceAddr() + ReferenceMemslots.PAGE);
            hvas.add(s.hvaEnd() - 1);
            hvas.add(s.hvaEnd());
        }
        for (long start : hvas) {
            for (long length : new long[] {1, ReferenceMemslots.PAGE, 0x200000}) {
                long end = start + length;
                assertEquals(sortedById(model.slotsMeetingHvas(as, start, end)), sortedById(set.inHvaRange(start, end)),
                        where + "inHvaRange [0x" + Long.toHexString(start) + ", 0x" + Long.toHexString(end) + ")");
            }
        }
        assertEquals(sortedById(model.slotsMeetingHvas(as, 0, -1L)), sortedById(set.inHvaRange(0, -1L)),
                where + "inHvaRange all");
    }

    private static List<String> sortedById(List<Slot> slots) {
        return slots.stream().sorted(Comparator.comparingInt(Slot::id)).map(RegionLockstep::describe).toList();
    }

    private static List<String> sortedById(Iterable<Memslot> slots) {
        List<Memslot> list = new ArrayList<>();
        slots.forEach(list::add);
        return list.stream().sorted(Comparator.comparingInt(Memslot::id)).map(RegionLockstep::describe).toList();
    }

    private static List<String> describe(List<Slot> slots) {
        return slots.stream().map(RegionLockstep::describe).toList();
    }

    private static List<String> describeSlots(Iterable<Memslot> slots) {
        List<String> list = new ArrayList<>();
        slots.forEach(s -> list.add(describe(s)));
        return list;
    }

    /** The fields a lookup result must agree on. */
    private static String describe(Slot s) {
        return s.asId() + "/" + s.id() + " gfn 0x" + Long.toHexString(s.baseGfn()) + "+0x" + Long.toHexString(s.npages())
                + " flags 0x" + Integer.toHexString(s.flags()) + " hva 0x" + Long.toHexString(s.userspaceAddr())
                + " pgoff 0x" + Long.toHexString(s.gmemPgoff());
    }

    private static String describe(Memslot s) {
        if (s == null) {
            return null;
        }
        long pgoff = s.gmem() == null ? 0 : s.gmem().pgoff();
        return s.asId() + "/" + s.id() + " gfn 0x" + Long.toHexString(s.baseGfn()) + "+0x" + Long.toHexString(s.npages())
                + " flags 0x" + Integer.toHexString(s.flags()) + " hva 0x" + Long.toHexString(s.userspaceAddr())
                + " pgoff 0x" + Long.toHexString(pgoff);
    }

    @Override
    public String toString() {
        return "RegionLockstep[" + type + ", " + impl + ", " + calls + " calls]";
    }
}
