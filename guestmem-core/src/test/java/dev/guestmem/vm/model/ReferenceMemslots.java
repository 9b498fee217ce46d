package dev.guestmem.vm.model;

import dev.guestmem.Errno;
import dev.guestmem.vm.RegionRequest;
import dev.guestmem.vm.SlotInfo;
import dev.guestmem.vm.VmType;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A deliberately simple model of {@code KVM_SET_USER_MEMORY_REGION(2)}, written from
 * {@code kvm-memory-spec.md} §1.1 steps 2-18, §1.2 and §5.4 and from {@code kernel-selftests.md} §A.2, and
 * not from the engine: a plain list of slots per address space, linear scans for every lookup, and its
 * own copies of the constants. Every 64-bit quantity is unsigned and compared as such.
 *
 * <p>A {@link Mutation} other than {@link Mutation#NONE} breaks one rule on purpose; the mutation test
 * uses those variants to show that the lockstep property notices a wrong answer.
 */
public final class ReferenceMemslots {
    static final long PAGE = 4096;
    static final int LOG_DIRTY_PAGES = 1;
    static final int READONLY = 2;
    static final int GUEST_MEMFD = 4;
    /** Internal flag (v6.18, spec §5.4 step 5): set on a slot bound to a guest_memfd created with MMAP. */
    static final int GMEM_ONLY = 1 << 17;
    /** {@code KVM_USER_MEM_SLOTS} on x86: 32767 - 3. */
    static final int USER_MEM_SLOTS = 32764;
    /** {@code KVM_MEM_SLOTS_NUM} = SHRT_MAX. */
    static final int MEM_SLOTS_NUM = 32767;
    /** {@code KVM_MEM_MAX_NR_PAGES} = 2^31 - 1. */
    static final long MAX_NR_PAGES = 0x7fff_ffffL;
    /** Highest gfn the x86 MMU maps on the reference machines: 52-bit guest-physical addresses. */
    static final long MAX_GFN = (1L << 40) - 1;
    /** x86-64 {@code access_ok}: the end of a user range may be at most 2^47 - 4096. */
    static final long USER_TOP = 0x7fff_ffff_f000L;
    /** {@code GUEST_MEMFD_FLAG_MMAP}. */
    static final long GMEM_FLAG_MMAP = 1;

    /** A broken rule, for showing that the property can fail. */
    public enum Mutation {
        NONE,
        /** EEXIST also for overlaps with slots of the other address space. */
        OVERLAP_ACROSS_ADDRESS_SPACES,
        /** The pre-December-2025 rule: clearing GUEST_MEMFD on an existing gmem slot is accepted. */
        GMEM_CLEAR_ALLOWED,
        /** {@code access_ok} taken as {@code end < 2^47 - 4096}, rejecting a range ending exactly there. */
        USER_TOP_EXCLUSIVE,
        /** A no-op re-set is published like a FLAGS_ONLY change (generation bumped). */
        NOOP_PUBLISHES,
        /** MOVE without the INVALID step: one publish instead of two. */
        MOVE_SINGLE_PUBLISH,
        /** Slot id bound off by one: {@code (u16)slot > 32764} instead of {@code >=}. */
        SLOT_ID_OFF_BY_ONE,
        /** Deletes skip the flag validation of step 5. */
        DELETE_SKIPS_FLAG_CHECK,
        /** guest_memfd binding done before the gpa overlap check (EBADF/EINVAL would win over EEXIST). */
        BIND_BEFORE_OVERLAP,
        /** guest_memfd ranges of one file may be bound twice. */
        GMEM_DOUBLE_BIND_ALLOWED,
        /** The gpa wrap check of step 12 is missing. */
        NO_GPA_WRAP_CHECK,
    }

    /** What a successful call did; {@link #NONE} for a failure or a no-op. */
    public enum Change {
        NONE(0), CREATE(1), DELETE(2), MOVE(2), FLAGS_ONLY(1),
        /** A MOVE the architecture refused after the INVALID step: published, then swapped back. */
        REFUSED_MOVE(2);

        private final int publishes;

        Change(int publishes) {
            this.publishes = publishes;
        }

        /** How many times the active set of the slot's address space is replaced. */
        public int publishes() {
            return publishes;
        }
    }

    /** One memslot. {@code gmemFd} is -1 and {@code gmemPgoff} 0 without guest_memfd. */
    public record Slot(int asId, int id, long baseGfn, long npages, int flags, long userspaceAddr, int gmemFd,
            long gmemPgoff) {
        public long endGfn() {
            return baseGfn + npages;
        }

        public int slotWord() {
            return asId << 16 | id;
        }

        public int userFlags() {
            return flags & 0xFFFF;
        }

        public boolean hasGmem() {
            return (flags & GUEST_MEMFD) != 0;
        }

        public long hvaEnd() {
            return userspaceAddr + npages * PAGE;
        }

        public boolean containsGfn(long gfn) {
            return Long.compareUnsigned(baseGfn, gfn) <= 0 && Long.compareUnsigned(gfn, endGfn()) < 0;
        }

        /** Whether {@code [baseGfn, endGfn)} meets {@code [start, end)}. */
        public boolean meetsGfns(long start, long end) {
            return Long.compareUnsigned(baseGfn, end) < 0 && Long.compareUnsigned(start, endGfn()) < 0;
        }

        /** Whether {@code [userspaceAddr, hvaEnd)} meets {@code [start, end)}. */
        public boolean meetsHvas(long start, long end) {
            return Long.compareUnsigned(userspaceAddr, end) < 0 && Long.compareUnsigned(start, hvaEnd()) < 0;
        }

        public SlotInfo info() {
            return new SlotInfo(asId, id, baseGfn, npages, flags, userspaceAddr, gmemPgoff);
        }

        @Override
        public String toString() {
            return "Slot[as=" + asId + " id=" + id + " gfn=0x" + Long.toHexString(baseGfn) + "+0x"
                    + Long.toHexString(npages) + " flags=0x" + Integer.toHexString(flags) + " hva=0x"
                    + Long.toHexString(userspaceAddr) + (hasGmem() ? " fd=" + gmemFd + " pgoff=0x"
                    + Long.toHexString(gmemPgoff) : "") + "]";
        }
    }

    /** What an fd refers to. */
    public enum FileKind {
        /** A guest_memfd of this VM. */
        GUEST_MEMFD,
        /** A guest_memfd of another VM. */
        FOREIGN_GUEST_MEMFD,
        /** Some other file. */
        OTHER
    }

    /** A bound page range {@code [firstPage, firstPage + npages)} of a guest_memfd. */
    public record Binding(long firstPage, long npages, int asId, int id) {
        boolean meets(long first, long count) {
            return firstPage < first + count && first < firstPage + npages;
        }
    }

    private static final class OpenFile {
        final FileKind kind;
        final long size;
        final long flags;
        final List<Binding> bindings = new ArrayList<>();

        OpenFile(FileKind kind, long size, long flags) {
            this.kind = kind;
            this.size = size;
            this.flags = flags;
        }
    }

    private final int addressSpaces;
    private final boolean readOnlyAllowed;
    private final Mutation mutation;
    private final List<List<Slot>> spaces = new ArrayList<>();
    private final long[] generations;
    private final Map<Integer, OpenFile> files = new HashMap<>();
    private long totalPages;
    private Change lastChange = Change.NONE;
    private String lastRule = "";

    public ReferenceMemslots(VmType type, boolean smm) {
        this(type, smm, Mutation.NONE);
    }

    /**
     * @param smm whether the modelled host KVM has SMM support: x86 then gives default VMs a second
     *            address space (VMs with private memory never have SMM). The reference kernel has none.
     */
    public ReferenceMemslots(VmType type, boolean smm, Mutation mutation) {
        this.addressSpaces = smm && type != VmType.SW_PROTECTED ? 2 : 1;
        // Read-only slots need a VM without protected state: true for both modelled types.
        this.readOnlyAllowed = true;
        this.mutation = mutation;
        this.generations = new long[addressSpaces];
        for (int as = 0; as < addressSpaces; as++) {
            spaces.add(new ArrayList<>());
            generations[as] = as;
        }
    }

    /** Makes {@code fd} refer to a file of {@code kind}; {@code size} and {@code flags} for guest_memfds. */
    public void openFile(int fd, FileKind kind, long size, long flags) {
        files.put(fd, new OpenFile(kind, size, flags));
    }

    public int addressSpaces() {
        return addressSpaces;
    }

    /** The generation of {@code asId}: {@code asId} plus the number of address spaces per publish. */
    public long generation(int asId) {
        return generations[asId];
    }

    /** The rule that decided the last {@link #setRegion}: the failing check, or the kind of success. */
    public String lastRule() {
        return lastRule;
    }

    private int reject(String rule, int errno) {
        lastRule = rule;
        return errno;
    }

    /** What the last {@link #setRegion} did. */
    public Change lastChange() {
        return lastChange;
    }

    public Optional<Slot> slot(int asId, int id) {
        if (asId < 0 || asId >= addressSpaces) {
            return Optional.empty();
        }
        return spaces.get(asId).stream().filter(s -> s.id() == id).findFirst();
    }

    /** The slots of {@code asId} in increasing base-gfn order. */
    public List<Slot> slots(int asId) {
        List<Slot> list = new ArrayList<>(spaces.get(asId));
        list.sort(Comparator.comparing(Slot::baseGfn, Long::compareUnsigned));
        return list;
    }

    /** Every slot of every address space. */
    public List<Slot> allSlots() {
        List<Slot> all = new ArrayList<>();
        spaces.forEach(all::addAll);
        return all;
    }

    /** The slot of {@code asId} containing {@code gfn} (spec §2.2, exact lookup). */
    public Optional<Slot> slotContaining(int asId, long gfn) {
        return spaces.get(asId).stream().filter(s -> s.containsGfn(gfn)).findFirst();
    }

    /** The slots of {@code asId} meeting {@code [start, end)}, in increasing base-gfn order (spec §2.3). */
    public List<Slot> slotsMeetingGfns(int asId, long start, long end) {
        return slots(asId).stream().filter(s -> s.meetsGfns(start, end)).toList();
    }

    /** The slots of {@code asId} whose host range meets {@code [start, end)}, in no particular order. */
    public List<Slot> slotsMeetingHvas(int asId, long start, long end) {
        return spaces.get(asId).stream().filter(s -> s.meetsHvas(start, end)).toList();
    }

    /** The slot of {@code asId} with the highest base below {@code gfn}, if any. */
    public Optional<Slot> slotBelow(int asId, long gfn) {
        return slots(asId).stream().filter(s -> Long.compareUnsigned(s.baseGfn(), gfn) < 0)
                .reduce((a, b) -> b);
    }

    /** The slot of {@code asId} with the lowest base above {@code gfn}, if any. */
    public Optional<Slot> slotAbove(int asId, long gfn) {
        return slots(asId).stream().filter(s -> Long.compareUnsigned(s.baseGfn(), gfn) > 0).findFirst();
    }

    /**
     * For every page of the guest_memfd at {@code fd} below {@code pages}: the slot word bound there plus
     * one, or 0 for an unbound page.
     */
    public int[] boundSlotWords(int fd, int pages) {
        int[] words = new int[pages];
        OpenFile f = files.get(fd);
        if (f != null) {
            for (Binding b : f.bindings) {
                for (long p = b.firstPage(); p < b.firstPage() + b.npages() && p < pages; p++) {
                    words[(int) p] = (b.asId() << 16 | b.id()) + 1;
                }
            }
        }
        return words;
    }

    /**
     * Applies a set-memory-region call; returns 0 or the errno. On failure nothing changes. The steps are
     * numbered as in spec §1.1.
     */
    public int setRegion(RegionRequest r) {
        lastChange = Change.NONE;
        lastRule = "";
        int flags = r.flags();
        int slotWord = r.slot();
        long gpa = r.guestPhysAddr();
        long size = r.memorySize();
        long hva = r.userspaceAddr();
        long gmemOffset = r.guestMemfdOffset();
        boolean gmem = (flags & GUEST_MEMFD) != 0;

        // Step 2: the v1 ioctl only knows LOG_DIRTY_PAGES and READONLY.
        if (!r.v2() && (flags & ~(LOG_DIRTY_PAGES | READONLY)) != 0) {
            return reject("02 v1 flags", Errno.EINVAL);
        }
        // Step 3: the low 16 bits must name a user slot.
        int id = slotWord & 0xFFFF;
        int idLimit = mutation == Mutation.SLOT_ID_OFF_BY_ONE ? USER_MEM_SLOTS + 1 : USER_MEM_SLOTS;
        if (id >= idLimit) {
            return reject("03 slot id", Errno.EINVAL);
        }
        // Step 5: check_memory_region_flags (v6.18: GUEST_MEMFD valid for every VM type).
        boolean skipFlagCheck = mutation == Mutation.DELETE_SKIPS_FLAG_CHECK && size == 0;
        if (!skipFlagCheck && !flagsAllowed(flags)) {
            return reject("05 flags" + (gmem ? " with GUEST_MEMFD" : ""), Errno.EINVAL);
        }
        // Step 6.
        int asId = slotWord >>> 16;
        // Step 7: size a whole number of pages.
        if (size % PAGE != 0) {
            return reject("07 size alignment", Errno.EINVAL);
        }
        // Step 8: gpa page aligned.
        if (gpa % PAGE != 0) {
            return reject("08 gpa alignment", Errno.EINVAL);
        }
        // Step 9: hva page aligned and a valid user range.
        if (hva % PAGE != 0) {
            return reject("09 hva alignment", Errno.EINVAL);
        }
        if (!userRange(hva, size)) {
            return reject("09 hva access_ok", Errno.EINVAL);
        }
        // Step 10: guest_memfd offset aligned, offset + size does not wrap.
        if (gmem && (gmemOffset % PAGE != 0 || wraps(gmemOffset, size))) {
            return reject("10 gmem offset", Errno.EINVAL);
        }
        // Step 11: address space and id range.
        if (asId >= addressSpaces || id >= MEM_SLOTS_NUM) {
            return reject("11 address space", Errno.EINVAL);
        }
        // Step 12: gpa + size does not wrap.
        if (mutation != Mutation.NO_GPA_WRAP_CHECK && wraps(gpa, size)) {
            return reject("12 gpa wrap", Errno.EINVAL);
        }
        // Step 13: at most 2^31 - 1 pages in a user slot.
        long npages = size >>> 12;
        if (id < USER_MEM_SLOTS && Long.compareUnsigned(npages, MAX_NR_PAGES) > 0) {
            return reject("13 too many pages", Errno.EINVAL);
        }
        // Step 14.
        Slot old = slot(asId, id).orElse(null);
        // Step 15: delete.
        if (size == 0) {
            if (old == null) {
                return reject("15 delete missing slot", Errno.EINVAL);
            }
            delete(old);
            lastRule = "15 delete" + (old.hasGmem() ? " gmem slot" : "");
            return 0;
        }
        // Steps 16-17: classify.
        long baseGfn = gpa >>> 12;
        Change change;
        if (old == null) {
            if (Long.compareUnsigned(totalPages + npages, totalPages) < 0) {
                return reject("17 total pages", Errno.EINVAL);
            }
            change = Change.CREATE;
        } else {
            if (gmem) {
                return reject("17 GUEST_MEMFD on existing slot", Errno.EINVAL);
            }
            int immutable = mutation == Mutation.GMEM_CLEAR_ALLOWED ? READONLY : READONLY | GUEST_MEMFD;
            if (hva != old.userspaceAddr()) {
                return reject("17 hva changed", Errno.EINVAL);
            }
            if (npages != old.npages()) {
                return reject("17 size changed", Errno.EINVAL);
            }
            if (((flags ^ old.flags()) & immutable) != 0) {
                return reject(old.hasGmem() ? "17 GUEST_MEMFD cleared" : "17 READONLY toggled", Errno.EINVAL);
            }
            if (baseGfn != old.baseGfn()) {
                change = Change.MOVE;
            } else if (flags != old.userFlags()) {
                change = Change.FLAGS_ONLY;
            } else if (mutation == Mutation.NOOP_PUBLISHES) {
                change = Change.FLAGS_ONLY;
            } else {
                lastRule = "17 no-op";
                return 0;
            }
        }
        OpenFile file = null;
        if (gmem && mutation == Mutation.BIND_BEFORE_OVERLAP) {
            file = files.get(r.guestMemfd());
            int err = bindCheck(file, gmemOffset, npages);
            if (err != 0) {
                return err;
            }
        }
        // Step 18: no gfn overlap with another slot of the same address space.
        if (change == Change.CREATE || change == Change.MOVE) {
            for (int as = 0; as < addressSpaces; as++) {
                if (as != asId && mutation != Mutation.OVERLAP_ACROSS_ADDRESS_SPACES) {
                    continue;
                }
                for (Slot other : spaces.get(as)) {
                    if ((as != asId || other.id() != id) && other.meetsGfns(baseGfn, baseGfn + npages)) {
                        return reject("18 overlap on " + (change == Change.CREATE ? "create" : "move"), Errno.EEXIST);
                    }
                }
            }
        }
        // Step 20: bind the guest_memfd range (spec §5.4), only ever on CREATE.
        int newFlags = flags;
        int fd = -1;
        long pgoff = 0;
        if (gmem) {
            file = files.get(r.guestMemfd());
            int err = bindCheck(file, gmemOffset, npages);
            if (err != 0) {
                return err;
            }
            fd = r.guestMemfd();
            pgoff = gmemOffset >>> 12;
            file.bindings.add(new Binding(pgoff, npages, asId, id));
            if ((file.flags & GMEM_FLAG_MMAP) != 0) {
                newFlags |= GMEM_ONLY;
            }
        }
        // Step 21, x86 prepare (KMS-17): the last gfn must be one the MMU can map (52-bit gpas with
        // shadow paging, as on the reference machines). A refused MOVE has already published its
        // INVALID copy and publishes again to put the old slot back; a refused CREATE unbinds.
        if (Long.compareUnsigned(baseGfn + npages - 1, MAX_GFN) > 0) {
            if (change == Change.MOVE) {
                generations[asId] += 2L * addressSpaces;
                lastChange = Change.REFUSED_MOVE;
            } else if (file != null) {
                file.bindings.removeIf(b -> b.asId() == asId && b.id() == id);
            }
            return reject("21 beyond the MMU's last gfn on " + (change == Change.MOVE ? "move" : "create"),
                    Errno.EINVAL);
        }
        Slot next = new Slot(asId, id, baseGfn, npages, newFlags, hva, fd, pgoff);
        List<Slot> space = spaces.get(asId);
        if (old != null) {
            space.remove(old);
        } else {
            totalPages += npages;
        }
        space.add(next);
        int publishes = change.publishes();
        if (change == Change.MOVE && mutation == Mutation.MOVE_SINGLE_PUBLISH) {
            publishes = 1;
        }
        generations[asId] += (long) publishes * addressSpaces;
        lastChange = change;
        lastRule = "ok " + change + (gmem ? " gmem" : "")
                + (Long.compareUnsigned(hva + size, USER_TOP) == 0 ? " ending at the top of user space" : "");
        return 0;
    }

    private void delete(Slot old) {
        spaces.get(old.asId()).remove(old);
        totalPages -= old.npages();
        if (old.hasGmem()) {
            OpenFile f = files.get(old.gmemFd());
            if (f != null) {
                f.bindings.removeIf(b -> b.asId() == old.asId() && b.id() == old.id());
            }
        }
        generations[old.asId()] += 2L * addressSpaces;
        lastChange = Change.DELETE;
    }

    /** Spec §5.4 steps 1-4 for {@code npages} pages at byte {@code offset} of {@code file}. */
    private int bindCheck(OpenFile file, long offset, long npages) {
        if (file == null) {
            return reject("20 bind: fd not open", Errno.EBADF);
        }
        if (file.kind != FileKind.GUEST_MEMFD) {
            return reject(file.kind == FileKind.OTHER ? "20 bind: not a guest_memfd" : "20 bind: other VM's guest_memfd",
                    Errno.EINVAL);
        }
        long end = offset + npages * PAGE;
        if (offset < 0 || offset % PAGE != 0 || wraps(offset, npages * PAGE)
                || Long.compareUnsigned(end, file.size) > 0) {
            return reject("20 bind: range outside the file", Errno.EINVAL);
        }
        if (mutation != Mutation.GMEM_DOUBLE_BIND_ALLOWED) {
            long first = offset >>> 12;
            for (Binding b : file.bindings) {
                if (b.meets(first, npages)) {
                    return reject("20 bind: range already bound", Errno.EINVAL);
                }
            }
        }
        return 0;
    }

    /** Spec §1.1 step 5. */
    private boolean flagsAllowed(int flags) {
        boolean gmem = (flags & GUEST_MEMFD) != 0;
        int allowed = GUEST_MEMFD;
        if (!gmem) {
            allowed |= LOG_DIRTY_PAGES;
            if (readOnlyAllowed) {
                allowed |= READONLY;
            }
        }
        return (flags & ~allowed) == 0;
    }

    /** x86-64 {@code access_ok(hva, size)}: the end neither wraps nor passes {@link #USER_TOP}. */
    private boolean userRange(long hva, long size) {
        long end = hva + size;
        if (Long.compareUnsigned(end, hva) < 0) {
            return false;
        }
        int c = Long.compareUnsigned(end, USER_TOP);
        return mutation == Mutation.USER_TOP_EXCLUSIVE ? c < 0 : c <= 0;
    }

    private static boolean wraps(long base, long length) {
        return Long.compareUnsigned(base + length, base) < 0;
    }
}
