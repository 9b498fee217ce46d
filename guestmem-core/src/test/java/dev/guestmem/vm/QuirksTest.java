package dev.guestmem.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.guestmem.Errno;
import dev.guestmem.memslot.MemslotImpl;
import org.junit.jupiter.api.Test;

/** KVM_CAP_DISABLE_QUIRKS(2) as the reference kernel answers it (checked there with KVM_ENABLE_CAP). */
class QuirksTest {
    @Test
    void disableQuirks2RefusesUnsupportedBitsAndDisableQuirksIgnoresThem() {
        Quirks quirks = new Quirks(true);
        assertTrue(quirks.enabled(Quirks.SLOT_ZAP_ALL));
        assertEquals(Errno.EINVAL, quirks.disable(Capability.DISABLE_QUIRKS2, Quirks.SLOT_ZAP_ALL | 1L << 9),
                "IGNORE_GUEST_PAT is not offered on the reference host");
        assertTrue(quirks.enabled(Quirks.SLOT_ZAP_ALL), "a refused call changes nothing");
        assertEquals(0, quirks.disable(Capability.DISABLE_QUIRKS2, 0));
        assertEquals(0, quirks.disable(Capability.DISABLE_QUIRKS, 0xffffL & ~Quirks.SLOT_ZAP_ALL));
        assertTrue(quirks.enabled(Quirks.SLOT_ZAP_ALL));
        assertEquals(0, quirks.disable(Capability.DISABLE_QUIRKS2, Quirks.SLOT_ZAP_ALL));
        assertFalse(quirks.enabled(Quirks.SLOT_ZAP_ALL));
        assertEquals(0, quirks.disable(Capability.DISABLE_QUIRKS2, Quirks.SLOT_ZAP_ALL), "again: still 0");
        assertFalse(new Quirks(false).enabled(Quirks.SLOT_ZAP_ALL));
    }

    @Test
    void theVmOffersTheCapabilitiesBeforeAndAfterVcpusExist() {
        try (EngineVm vm = EngineVm.create(VmConfig.of(VmType.DEFAULT, MemslotImpl.TREE))) {
            assertEquals(1, vm.checkExtension(Capability.DISABLE_QUIRKS));
            assertEquals(Quirks.SUPPORTED, vm.checkExtension(Capability.DISABLE_QUIRKS2));
            vm.vcpu(0);
            assertEquals(Errno.EINVAL, vm.enableCap(Capability.DISABLE_QUIRKS2, 1L << 62));
            assertEquals(0, vm.enableCap(Capability.DISABLE_QUIRKS2, Quirks.SLOT_ZAP_ALL));
            vm.close();
            assertEquals(Errno.EIO, vm.enableCap(Capability.DISABLE_QUIRKS2, Quirks.SLOT_ZAP_ALL));
        }
    }
}
