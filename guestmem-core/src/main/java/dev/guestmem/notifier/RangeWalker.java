package dev.guestmem.notifier;

import static dev.guestmem.memslot.KvmLimits.PAGE_SHIFT;
import static dev.guestmem.memslot.KvmLimits.PAGE_SIZE;

import dev.guestmem.Errno;
import dev.guestmem.memslot.Memslot;
import dev.guestmem.memslot.MemslotSet;
import dev.guestmem.memslot.MemslotStore;
import dev.guestmem.mmu.TdpMmu;
import dev.guestmem.sync.Srcu;

/**
 * The one walker over the memslots a range touches, shared by the MMU notifiers, the hva-range
 * operator and the gfn-range walk of memory attributes (kvm-memory-spec §3.2, §3.6, §3.7).
 *
 * <p>Inside an SRCU read section, for every address space, for every slot of the active set whose hva
 * range (or gfn range) intersects the request — INVALID slots included, since an invalidation arriving
 * between the INVALID publish and the zap must still reach the old slot's SPTEs — the walker clamps the
 * request to the slot, converts it to gfns (hva start rounded down, hva end rounded up, so every guest
 * page overlapping the range is included), and on the first such slot takes the MMU lock (for write, if
 * the operation asks for it) and runs {@code on_lock}. Then it runs the handler; a negative result stops
 * the walk and is returned. At the end it flushes remote TLBs if asked and any handler returned "true",
 * still under the lock. No intersecting slot: no lock, no on_lock, no handler.
 */
public final class RangeWalker {
    private final Srcu srcu;
    private final MemslotStore store;
    private final TdpMmu mmu;

    public RangeWalker(Srcu srcu, MemslotStore store, TdpMmu mmu) {
        this.srcu = srcu;
        this.store = store;
        this.mmu = mmu;
    }

    /** {@code __kvm_handle_hva_range}: {@code op}'s range is an hva range; handlers see shared memory only. */
    public WalkResult walkHva(RangeOp op) {
        return walk(op, true);
    }

    /** {@code kvm_handle_gfn_range}: {@code op}'s range is a gfn range; handlers see shared and private. */
    public WalkResult walkGfn(RangeOp op) {
        return walk(op, false);
    }

    /**
     * The hva-range operator of the SNP series ({@code kvm_vm_do_hva_range_op}, kvm-memory-spec §3.7):
     * runs {@code op} on every gfn range of every slot the hvas {@code [start, end)} touch, under SRCU and,
     * if {@code takeMmuLock}, the MMU lock; returns 0, or the first non-zero (negative errno) result of
     * {@code op}, which ends the walk. {@code -EINVAL} for an empty or reversed range.
     */
    public int doHvaRangeOp(long start, long end, GfnRangeHandler op, boolean takeMmuLock) {
        if (Long.compareUnsigned(end, start) <= 0) {
            mmu.invariants().record("hva range op with end <= start");
            return -Errno.EINVAL;
        }
        return walkHva(new RangeOp(start, end, op, RangeOp.NO_ON_LOCK, false, true, takeMmuLock, 0)).error();
    }

    private WalkResult walk(RangeOp op, boolean byHva) {
        if (Long.compareUnsigned(op.end(), op.start()) <= 0) {
            mmu.invariants().record("range walk with end <= start");
            return WalkResult.NOTHING;
        }
        boolean locked = false;
        boolean found = false;
        boolean ret = false;
        int error = 0;
        int token = srcu.readLock();
        try {
            outer:
            for (int as = 0; as < store.addressSpaces(); as++) {
                MemslotSet set = store.active(as);
                Iterable<Memslot> slots = byHva ? set.inHvaRange(op.start(), op.end())
                        : set.inGfnRange(op.start(), op.end());
                for (Memslot slot : slots) {
                    long gfnStart;
                    long gfnEnd;
                    if (byHva) {
                        // hvas are below 2^47, so signed max/min are the unsigned ones.
                        long hvaStart = Math.max(op.start(), slot.userspaceAddr());
                        long hvaEnd = Math.min(op.end(), slot.hvaEnd());
                        gfnStart = slot.hvaToGfn(hvaStart);
                        gfnEnd = slot.baseGfn() + ((hvaEnd + PAGE_SIZE - 1 - slot.userspaceAddr()) >>> PAGE_SHIFT);
                    } else {
                        gfnStart = Long.compareUnsigned(op.start(), slot.baseGfn()) > 0 ? op.start() : slot.baseGfn();
                        gfnEnd = Long.compareUnsigned(op.end(), slot.endGfn()) < 0 ? op.end() : slot.endGfn();
                        if (Long.compareUnsigned(gfnStart, gfnEnd) >= 0) {
                            continue;
                        }
                    }
                    if (!found) {
                        found = true;
                        if (op.takeLock()) {
                            mmu.lock().writeLock();
                            locked = true;
                        }
                        op.onLock().run();
                        if (op.handler() == null) {
                            break outer;
                        }
                    }
                    int filter = byHva ? GfnRange.FILTER_SHARED : GfnRange.FILTER_SHARED | GfnRange.FILTER_PRIVATE;
                    int r = op.handler().handle(new GfnRange(slot, gfnStart, gfnEnd, op.mayBlock(), op.arg(), filter));
                    if (r < 0) {
                        error = r;
                        break outer;
                    }
                    ret |= r > 0;
                }
            }
            if (op.flushOnRet() && ret) {
                mmu.flushRemoteTlbs();
            }
        } finally {
            if (locked) {
                mmu.lock().writeUnlock();
            }
            srcu.readUnlock(token);
        }
        mmu.reclaim();
        return new WalkResult(ret, found, error);
    }
}
