package dev.guestmem;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ErrnoTest {
    @Test
    void namesKnownAndUnknownErrnos() {
        assertEquals("EINVAL", Errno.name(Errno.EINVAL));
        assertEquals("EEXIST", Errno.name(17));
        assertEquals("E999", Errno.name(999));
    }
}
