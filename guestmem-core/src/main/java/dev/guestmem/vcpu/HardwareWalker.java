package dev.guestmem.vcpu;

import dev.guestmem.mmu.FaultHandler;
import dev.guestmem.mmu.PageLevel;
import dev.guestmem.mmu.PageTable;
import dev.guestmem.mmu.Spte;
import dev.guestmem.mmu.TdpMmu;

/**
 * The CPU's EPT walk on a TLB miss, in guest mode (mmu.md §8.4 "Hardware model"): starts at the
 * lowest table the paging-structure cache holds for the gfn (else the root), follows present non-leaf
 * entries, and at a leaf that allows the access does the A/D assist — a CAS setting Accessed, and Dirty
 * for a store — before filling the TLB. A non-present entry is an EPT violation, an MMIO SPTE a
 * misconfiguration; both leave guest mode and go to the {@link FaultHandler}. A CAS that loses (the
 * entry changed) simply re-reads the entry, as the hardware re-walks.
 *
 * <p>Not an RCU reader: the tables it can reach stay allocated because a table is freed only after a
 * remote flush, which waits for this vCPU to leave guest mode and makes it drop its caches.
 */
final class HardwareWalker {
    /** The walk filled the TLB; {@link #host()} is the host address of the page. */
    static final int HIT = 0;

    private final TdpMmu mmu;
    private final Tlb tlb;
    private final PagingStructureCache psc;
    private FaultHandler.Kind fault;
    private long lastSpte;
    private long host;

    HardwareWalker(TdpMmu mmu, Tlb tlb, PagingStructureCache psc) {
        this.mmu = mmu;
        this.tlb = tlb;
        this.psc = psc;
    }

    /** Walks for an access to {@code gfn}; returns {@link #HIT} or -1 with {@link #fault()} set. */
    int walk(long gfn, boolean write) {
        PageTable table = psc.lookup(gfn, 1);
        if (table == null) {
            table = psc.lookup(gfn, 2);
        }
        if (table == null) {
            table = mmu.root();
        }
        int level = table.level();
        for (;;) {
            int index = PageLevel.index(gfn, level);
            long spte = table.get(index);
            if (!Spte.isPresent(spte)) {
                lastSpte = spte;
                fault = Spte.isMmio(spte) ? FaultHandler.Kind.MISCONFIG : FaultHandler.Kind.NOT_PRESENT;
                return -1;
            }
            if (!Spte.isLeaf(spte, level)) {
                table = mmu.childTable(spte);
                level--;
                psc.insert(gfn, table);
                continue;
            }
            if (!Spte.allows(spte, write)) {
                lastSpte = spte;
                fault = FaultHandler.Kind.PROTECTION;
                return -1;
            }
            long assisted = spte | Spte.ACCESSED | (write ? Spte.DIRTY : 0);
            if (assisted != spte && table.cas(index, spte, assisted) != spte) {
                continue; // the entry changed under us: look again
            }
            long frameGfn = PageLevel.round(gfn, level);
            host = (Spte.pfn(assisted) + (gfn - frameGfn)) << 12;
            tlb.fill(gfn, host, Spte.isWritable(assisted) && Spte.isDirty(assisted), level);
            return HIT;
        }
    }

    /** What the failed walk found. */
    FaultHandler.Kind fault() {
        return fault;
    }

    /** The SPTE a failed walk stopped at. */
    long lastSpte() {
        return lastSpte;
    }

    /** Host address of the page the last successful walk mapped. */
    long host() {
        return host;
    }
}
