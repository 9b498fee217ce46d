package dev.guestmem.gmem;

import static dev.guestmem.memslot.KvmLimits.PAGE_SIZE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.Errno;
import dev.guestmem.memslot.GmemBinding;
import dev.guestmem.memslot.Memslot;
import dev.guestmem.memslot.MemslotFlags;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The routing decisions of {@link GmemFaultSource} (spec §5.6, §5.8), one rule at a time, without an
 * MMU: which accesses exit with a memory fault (and with which privacy and errno), which are served
 * from which guest_memfd page, and which take the shared path.
 */
class GmemFaultSourceTest {
    private static final long BASE = 0x100000;

    private final MemoryAttributes attributes = new MemoryAttributes(true);
    private final GmemFaultSource source = new GmemFaultSource(attributes);
    private final List<GuestMemfd> files = new ArrayList<>();

    @AfterEach
    void tearDown() {
        for (GuestMemfd f : files) {
            f.release();
            f.retire();
        }
    }

    private GuestMemfd file(long flags) {
        GuestMemfd f = GuestMemfd.create(new Object(), 8 * PAGE_SIZE, flags, GmemInvalidationTarget.NONE);
        files.add(f);
        return f;
    }

    /** A slot of 4 pages at {@link #BASE} bound to {@code file} from page {@code pgoff}. */
    private static Memslot bound(GuestMemfd file, long pgoff) {
        int flags = MemslotFlags.GUEST_MEMFD | (file.mmapAllowed() ? MemslotFlags.GMEM_ONLY : 0);
        Memslot slot = new Memslot(0, 1, BASE, 4, flags, 0, new GmemBinding(file, pgoff));
        assertEquals(0, file.bind(slot));
        return slot;
    }

    private void setPrivate(long gfn) {
        assertEquals(0, attributes.set(gfn * PAGE_SIZE, PAGE_SIZE, MemoryAttributes.PRIVATE, 0, (s, e, c) -> {
            c.run();
            return true;
        }));
    }

    private static GmemFault.MemoryFaultExit exit(long gfn, boolean isPrivate, int errno) {
        return new GmemFault.MemoryFaultExit(gfn * PAGE_SIZE, PAGE_SIZE, isPrivate, errno);
    }

    @Test
    void privacyOfAnAccessIsTheAttributeOfItsGfn() {
        assertFalse(source.isPrivateAccess(BASE));
        setPrivate(BASE);
        assertTrue(source.isPrivateAccess(BASE));
        assertFalse(source.isPrivateAccess(BASE + 1));
    }

    @Test
    void aMismatchWithTheAttributeExitsFirst() {
        setPrivate(BASE);
        Memslot slot = bound(file(0), 0);
        assertEquals(exit(BASE, false, Errno.EFAULT), source.faultin(slot, BASE, false));
        assertEquals(exit(BASE + 1, true, Errno.EFAULT), source.faultin(slot, BASE + 1, true));
        assertEquals(exit(BASE + 1, true, Errno.EFAULT), source.faultin(null, BASE + 1, true), "before the slot");
    }

    @Test
    void withoutASlotPrivateExitsAndSharedGoesOn() {
        setPrivate(BASE);
        assertEquals(exit(BASE, true, Errno.EFAULT), source.faultin(null, BASE, true));
        assertEquals(GmemFault.SHARED, source.faultin(null, BASE + 1, false));
    }

    @Test
    void sharedAccessesToOrdinaryAndNonMmapSlotsTakeTheHvaPath() {
        Memslot plain = new Memslot(0, 1, BASE, 4, 0, 0x7f0000000000L, null);
        assertEquals(GmemFault.SHARED, source.faultin(plain, BASE, false));
        assertEquals(GmemFault.SHARED, source.faultin(bound(file(0), 0), BASE + 2, false));
    }

    @Test
    void aPrivateAccessToASlotWithoutGuestMemfdExits() {
        setPrivate(BASE + 3);
        Memslot plain = new Memslot(0, 1, BASE, 4, 0, 0x7f0000000000L, null);
        assertEquals(exit(BASE + 3, true, Errno.EFAULT), source.faultin(plain, BASE + 3, true));
    }

    @Test
    void privateAccessesAreServedFromThePageTheBindingNames() {
        GuestMemfd file = file(0);
        Memslot slot = bound(file, 3);
        setPrivate(BASE + 2);
        file.page(5).set(ValueLayout.JAVA_LONG, 16, 0x5555);
        GmemFault.Page page = assertInstanceOf(GmemFault.Page.class, source.faultin(slot, BASE + 2, true));
        assertTrue(page.writable());
        assertEquals(PAGE_SIZE, page.page().byteSize());
        assertEquals(0x5555, page.page().get(ValueLayout.JAVA_LONG, 16), "gfn base+2 is file page 3+2");
    }

    @Test
    void gmemOnlySlotsServeSharedAccessesFromTheFileToo() {
        GuestMemfd file = file(GuestMemfd.FLAG_MMAP | GuestMemfd.FLAG_INIT_SHARED);
        Memslot slot = bound(file, 0);
        file.page(1).set(ValueLayout.JAVA_LONG, 0, 0x77);
        GmemFault.Page page = assertInstanceOf(GmemFault.Page.class, source.faultin(slot, BASE + 1, false));
        assertEquals(0x77, page.page().get(ValueLayout.JAVA_LONG, 0));
    }

    @Test
    void aReleasedFileExitsWithEfault() {
        GuestMemfd file = file(GuestMemfd.FLAG_MMAP);
        Memslot slot = bound(file, 0);
        file.release();
        assertEquals(exit(BASE, false, Errno.EFAULT), source.faultin(slot, BASE, false));
        setPrivate(BASE + 1);
        assertEquals(exit(BASE + 1, true, Errno.EFAULT), source.faultin(slot, BASE + 1, true));
    }

    @Test
    void aBindingThatIsNotThisSlotsExitsWithEio() {
        GuestMemfd file = file(GuestMemfd.FLAG_MMAP);
        Memslot slot = bound(file, 0);
        Memslot impostor = new Memslot(0, 2, BASE, 4, slot.flags(), 0, new GmemBinding(file, 0));
        assertEquals(exit(BASE, false, Errno.EIO), source.faultin(impostor, BASE, false));
    }
}
