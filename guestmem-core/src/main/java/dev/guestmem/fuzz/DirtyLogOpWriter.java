package dev.guestmem.fuzz;

import dev.guestmem.trace.OpKind;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Dirty-log lines (spec §4): {@code enable-cap manual-protect}, {@code dirty} and {@code clear}, aimed at
 * slots the generator laid out, with bad ones: unknown capability bits, ids at the limits, windows that
 * are not 64-page aligned or reach past the slot. A {@code clear} list only names pages of the bitmap the
 * caller passes, as the parser requires.
 */
final class DirtyLogOpWriter implements OpWriter {
    private static final int BITS_PER_WORD = 64;
    /** KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE and KVM_DIRTY_LOG_INITIALLY_SET, alone and together. */
    private static final long[] CAP_ARGS = {0, 1, 2, 3};
    private static final long[] BAD_CAP_ARGS = {4, 7, 0x8000000000000000L};
    /** Ids of no slot: past the user slots, another address space, the top. */
    private static final int[] BAD_IDS = {32764, 0x10000, 0xFFFFFFFF, 40000};

    private final FuzzState state;
    private final Dice dice;

    DirtyLogOpWriter(FuzzState state, Dice dice) {
        this.state = state;
        this.dice = dice;
    }

    @Override
    public Set<OpKind> kinds() {
        return Set.of(OpKind.ENABLE_CAP, OpKind.DIRTY_LOG, OpKind.CLEAR_LOG);
    }

    @Override
    public boolean canWrite(OpKind kind) {
        return true;
    }

    @Override
    public String write(OpKind kind, boolean bad) {
        return switch (kind) {
            case ENABLE_CAP -> "enable-cap manual-protect " + Lines.hex(dice.pick(bad ? BAD_CAP_ARGS : CAP_ARGS));
            case DIRTY_LOG -> dirty(bad);
            case CLEAR_LOG -> clear(bad);
            default -> throw new IllegalArgumentException("not a dirty-log operation: " + kind);
        };
    }

    private String dirty(boolean bad) {
        List<SlotPlan> slots = state.slots();
        if (bad || slots.isEmpty()) {
            long npages = dice.pick(0, 1, 64, 65);
            return "dirty " + Lines.u32(bad ? dice.pick(BAD_IDS) : dice.pick(0, 1, 2)) + " " + npages;
        }
        SlotPlan p = dice.pick(slots);
        return "dirty " + Lines.u32(p.slot()) + " " + p.pages();
    }

    /**
     * A window of 64-page multiples inside the slot, or reaching its end (spec §4.4); bad: a first page
     * that is not a multiple of 64, a length that is not and stops short of the end, a window past the end.
     */
    private String clear(boolean bad) {
        List<SlotPlan> slots = state.slots();
        int slot;
        long pages;
        if (slots.isEmpty()) {
            slot = dice.pick(0, 1, 2);
            pages = BITS_PER_WORD;
        } else {
            SlotPlan p = dice.pick(slots);
            slot = p.slot();
            pages = p.pages();
        }
        long words = (pages + BITS_PER_WORD - 1) / BITS_PER_WORD;
        long first = BITS_PER_WORD * dice.between(0, words - 1);
        long num = Math.min(pages - first, BITS_PER_WORD * dice.between(1, 2));
        if (bad) {
            switch (dice.below(4)) {
                case 0 -> first += dice.between(1, BITS_PER_WORD - 1);
                case 1 -> num = Math.max(0, num - 1);
                case 2 -> first += BITS_PER_WORD * words;
                default -> num += BITS_PER_WORD;
            }
        }
        return "clear " + Lines.u32(slot) + " " + first + " " + num + " " + pageList(first, num);
    }

    /** {@code all}, {@code -}, or a few pages of the bitmap passed: {@code [first, first + ALIGN(num, 64))}. */
    private String pageList(long first, long num) {
        long bitmapBits = (num + BITS_PER_WORD - 1) / BITS_PER_WORD * BITS_PER_WORD;
        int choice = dice.below(4);
        if (choice == 0 || bitmapBits == 0) {
            return dice.chance(0.5) ? "all" : "-";
        }
        if (choice == 1) {
            return "all";
        }
        TreeSet<Long> pages = new TreeSet<>();
        int count = 1 + dice.below(4);
        for (int i = 0; i < count; i++) {
            pages.add(first + dice.between(0, bitmapBits - 1));
        }
        return pages.stream().map(String::valueOf).collect(Collectors.joining(","));
    }
}
