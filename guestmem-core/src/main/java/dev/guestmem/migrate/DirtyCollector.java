package dev.guestmem.migrate;

import dev.guestmem.dirty.RingHarvester;
import dev.guestmem.vm.EngineVm;
import java.util.ArrayList;
import java.util.List;

/**
 * Collects the pages the guest dirtied since the previous collection and makes the log watch them again,
 * in one of the three ways KVM offers. After {@link #collect} returns, a page's contents may be read: any
 * later guest store to it is reported by a later collection.
 */
interface DirtyCollector {
    /** Adds the pages dirtied since the previous call to {@code into}. */
    void collect(PageSet into);

    /** The collector for {@code mode}. */
    static DirtyCollector of(LogMode mode, EngineVm vm, GuestLayout layout, int vcpus) {
        return switch (mode) {
            case BITMAP -> new Bitmaps(vm, layout, false);
            case CLEAR_LOG -> new Bitmaps(vm, layout, true);
            case RING -> new Rings(vm, layout, vcpus);
        };
    }

    /** {@code KVM_GET_DIRTY_LOG} per slot; with manual protection followed by {@code KVM_CLEAR_DIRTY_LOG}. */
    final class Bitmaps implements DirtyCollector {
        private final EngineVm vm;
        private final GuestLayout layout;
        private final boolean clear;
        private final long[] buffer;

        Bitmaps(EngineVm vm, GuestLayout layout, boolean clear) {
            this.vm = vm;
            this.layout = layout;
            this.clear = clear;
            this.buffer = new long[(int) ((layout.pagesPerSlot() + 63) >>> 6)];
        }

        @Override
        public void collect(PageSet into) {
            for (int i = 0; i < layout.slots(); i++) {
                int id = GuestLayout.id(i);
                SourceMachine.check(vm.getDirtyLog(id, buffer), "KVM_GET_DIRTY_LOG");
                if (clear) {
                    SourceMachine.check(vm.clearDirtyLog(id, 0, (int) layout.pagesPerSlot(), buffer),
                            "KVM_CLEAR_DIRTY_LOG");
                }
                into.addBitmap(i, buffer);
            }
        }
    }

    /** Harvests every vCPU's ring in order, then {@code KVM_RESET_DIRTY_RINGS} (which must free as many). */
    final class Rings implements DirtyCollector {
        private final EngineVm vm;
        private final GuestLayout layout;
        private final List<RingHarvester> harvesters = new ArrayList<>();

        Rings(EngineVm vm, GuestLayout layout, int vcpus) {
            this.vm = vm;
            this.layout = layout;
            for (int id = 0; id < vcpus; id++) {
                harvesters.add(new RingHarvester(vm.dirtyLog().ring(id)));
            }
        }

        @Override
        public void collect(PageSet into) {
            int harvested = 0;
            for (RingHarvester h : harvesters) {
                harvested += h.harvest((slot, offset) -> {
                    int i = layout.indexOf(slot);
                    if (i < 0 || Long.compareUnsigned(offset, layout.pagesPerSlot()) >= 0) {
                        throw new IllegalStateException("ring entry for no page of ours: slot " + slot + " offset "
                                + offset);
                    }
                    into.add(i, offset);
                });
            }
            int reset = vm.resetDirtyRings();
            if (reset != harvested) {
                throw new IllegalStateException("KVM_RESET_DIRTY_RINGS freed " + reset + " entries, harvested "
                        + harvested);
            }
        }
    }
}
