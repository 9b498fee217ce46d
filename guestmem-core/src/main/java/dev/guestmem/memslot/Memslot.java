package dev.guestmem.memslot;

import static dev.guestmem.memslot.KvmLimits.PAGE_SHIFT;

import dev.guestmem.dirty.DirtyBitmap;

/**
 * One memslot: {@code npages} guest frames from {@code baseGfn} backed by host memory at
 * {@code userspaceAddr}. Immutable once published; MOVE and FLAGS_ONLY build a new object (spec §8),
 * the INVALID step builds a copy with {@link MemslotFlags#INVALID}. Identity matters (caches compare
 * slot objects), so this is a class with identity equality, not a record.
 */
public final class Memslot {
    private final int asId;
    private final int id;
    private final long baseGfn;
    private final long npages;
    private final int flags;
    private final long userspaceAddr;
    private final GmemBinding gmem;
    private final DirtyBitmap dirtyBitmap;

    /**
     * @param gmem the guest_memfd binding, or {@code null} for a slot without {@code KVM_MEM_GUEST_MEMFD}
     */
    public Memslot(int asId, int id, long baseGfn, long npages, int flags, long userspaceAddr, GmemBinding gmem) {
        this(asId, id, baseGfn, npages, flags, userspaceAddr, gmem, null);
    }

    /**
     * @param gmem        the guest_memfd binding, or {@code null} for a slot without {@code KVM_MEM_GUEST_MEMFD}
     * @param dirtyBitmap the dirty bitmap (spec §4.1), or {@code null}
     */
    public Memslot(int asId, int id, long baseGfn, long npages, int flags, long userspaceAddr, GmemBinding gmem,
            DirtyBitmap dirtyBitmap) {
        if (npages <= 0) {
            throw new IllegalArgumentException("a memslot has at least one page: " + npages);
        }
        this.asId = asId;
        this.id = id;
        this.baseGfn = baseGfn;
        this.npages = npages;
        this.flags = flags;
        this.userspaceAddr = userspaceAddr;
        this.gmem = gmem;
        this.dirtyBitmap = dirtyBitmap;
    }

    public int asId() {
        return asId;
    }

    public int id() {
        return id;
    }

    /** The {@code slot} word of the uAPI: {@code asId << 16 | id}. */
    public int slotWord() {
        return asId << 16 | id;
    }

    public long baseGfn() {
        return baseGfn;
    }

    public long npages() {
        return npages;
    }

    /** First gfn past the slot (exclusive end). */
    public long endGfn() {
        return baseGfn + npages;
    }

    public int flags() {
        return flags;
    }

    public long userspaceAddr() {
        return userspaceAddr;
    }

    /** First hva past the slot's host range (exclusive end). */
    public long hvaEnd() {
        return userspaceAddr + (npages << PAGE_SHIFT);
    }

    /** The guest_memfd binding, or {@code null}. */
    public GmemBinding gmem() {
        return gmem;
    }

    /**
     * The dirty bitmap, or {@code null}: slots with {@code KVM_MEM_LOG_DIRTY_PAGES} have one unless dirty
     * rings are used instead. MOVE and FLAGS_ONLY hand the same object to the new slot (spec §4.1).
     */
    public DirtyBitmap dirtyBitmap() {
        return dirtyBitmap;
    }

    /** This slot with {@code bitmap} as its dirty bitmap (a new object: slots are immutable). */
    public Memslot withDirtyBitmap(DirtyBitmap bitmap) {
        return new Memslot(asId, id, baseGfn, npages, flags, userspaceAddr, gmem, bitmap);
    }

    public boolean isInvalid() {
        return (flags & MemslotFlags.INVALID) != 0;
    }

    public boolean isReadOnly() {
        return (flags & MemslotFlags.READONLY) != 0;
    }

    public boolean logsDirtyPages() {
        return (flags & MemslotFlags.LOG_DIRTY_PAGES) != 0;
    }

    public boolean contains(long gfn) {
        return gfn - baseGfn >= 0 && gfn - baseGfn < npages && Long.compareUnsigned(gfn, baseGfn) >= 0;
    }

    /** {@code userspace_addr + (gfn - base_gfn) * PAGE_SIZE}; {@code gfn} must be inside the slot. */
    public long gfnToHva(long gfn) {
        return userspaceAddr + ((gfn - baseGfn) << PAGE_SHIFT);
    }

    /** {@code base_gfn + ((hva - userspace_addr) >> PAGE_SHIFT)}, rounding down. */
    public long hvaToGfn(long hva) {
        return baseGfn + ((hva - userspaceAddr) >>> PAGE_SHIFT);
    }

    /**
     * The copy published during DELETE and MOVE: same fields (the dirty bitmap too) plus
     * {@link MemslotFlags#INVALID}.
     */
    public Memslot invalidCopy() {
        return new Memslot(asId, id, baseGfn, npages, flags | MemslotFlags.INVALID, userspaceAddr, gmem, dirtyBitmap);
    }

    @Override
    public String toString() {
        return "Memslot[as=" + asId + " id=" + id + " gfn=0x" + Long.toHexString(baseGfn) + "+0x"
                + Long.toHexString(npages) + " flags=0x" + Integer.toHexString(flags) + " hva=0x"
                + Long.toHexString(userspaceAddr) + "]";
    }
}
