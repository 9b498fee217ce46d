package dev.guestmem.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.guestmem.Errno;
import dev.guestmem.vm.Access;
import java.util.BitSet;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

class ResultLineTest {
    @Test
    void okAndErr() {
        assertEquals("ok", ResultLine.ok());
        assertEquals("err EINVAL", ResultLine.err(Errno.EINVAL));
        assertEquals("err EEXIST", ResultLine.err(17));
        assertEquals("err EOPNOTSUPP", ResultLine.err(Errno.EOPNOTSUPP));
        assertEquals("ok", ResultLine.status(0));
        assertEquals("err ENOENT", ResultLine.status(Errno.ENOENT));
        assertThrows(IllegalArgumentException.class, () -> ResultLine.err(0));
        assertThrows(IllegalArgumentException.class, () -> ResultLine.err(-22));
    }

    @Test
    void valIsLowercaseHexWithoutLeadingZeros() {
        assertEquals("val 0x0", ResultLine.val(0));
        assertEquals("val 0x1122", ResultLine.val(0x1122));
        assertEquals("val 0xabcdef", ResultLine.val(0xABCDEF));
        assertEquals("val 0xffffffffffffffff", ResultLine.val(-1));
        assertEquals("val 0x8000000000000000", ResultLine.val(Long.MIN_VALUE));
    }

    @Property
    void valRoundTripsThroughTheTraceNumberSyntax(@ForAll long value) {
        String hex = ResultLine.val(value).substring("val ".length());
        TraceOp.GuestWrite w = (TraceOp.GuestWrite) TraceParser.parse("p", "w 0 " + hex).ops().get(0);
        assertEquals(value, w.value());
        TraceOp.GuestWrite d = (TraceOp.GuestWrite) TraceParser.parse("p", "w 0 " + Long.toUnsignedString(value))
                .ops().get(0);
        assertEquals(value, d.value());
    }

    @Test
    void bitsListsAscendingIndexesOrDash() {
        assertEquals("bits -", ResultLine.bits(new BitSet()));
        assertEquals("bits -", ResultLine.bits(new long[4]));
        assertEquals("bits 0,3,255", ResultLine.bits(new long[] {1L | 1L << 3, 0, 0, 1L << 63}));
        assertEquals("bits 64", ResultLine.bits(new long[] {0, 1}));
        BitSet set = new BitSet();
        set.set(65);
        set.set(1);
        assertEquals("bits 1,65", ResultLine.bits(set));
    }

    @Test
    void sizeAndExits() {
        assertEquals("size 16384", ResultLine.size(0x4000));
        assertEquals("size 18446744073709551615", ResultLine.size(-1));
        assertEquals("mmio", ResultLine.mmio());
        assertEquals("efault", ResultLine.efault());
        assertEquals("memfault private", ResultLine.memfault(true));
        assertEquals("memfault shared", ResultLine.memfault(false));
    }

    @Test
    void accessOutcomes() {
        assertEquals("val 0x77", ResultLine.access(new Access.Value(0x77)));
        assertEquals("ok", ResultLine.access(Access.STORED));
        assertEquals("mmio", ResultLine.access(new Access.Mmio(0xD0000000L, true)));
        assertEquals("mmio", ResultLine.access(new Access.Mmio(0xD0000000L, false)));
        assertEquals("efault", ResultLine.access(new Access.Efault(0x1000)));
        assertEquals("memfault private", ResultLine.access(new Access.MemoryFault(0x1000, 0x1000, true)));
        assertEquals("memfault shared", ResultLine.access(new Access.MemoryFault(0x1000, 0x1000, false)));
    }
}
