package dev.guestmem.fuzz;

import static dev.guestmem.fuzz.GpaChoices.PAGE;

import dev.guestmem.trace.OpKind;
import java.util.List;
import java.util.Set;

/**
 * Guest accesses ({@code w}, {@code r}): mostly into layouts the generator asked for (whether or not the
 * kernel accepted them, or they were moved or deleted since), some just beside one, some anywhere near
 * an anchor, also through slots over unmapped memory. Always 8-byte aligned (the parser's rule), below
 * 4 GiB (ACCESSES_BELOW_4GIB) and outside the reserved window (RESERVED_GPAS). A load that rule
 * SHADOW_MMU_PREFETCH forbids is written as a store to the same word: the store maps the page alike on
 * both sides, after which loads of it are allowed again. There are no "bad" accesses: where one lands
 * decides its result.
 */
final class AccessOpWriter implements OpWriter {
    private final FuzzState state;
    private final Dice dice;
    private final GpaChoices gpas;

    AccessOpWriter(FuzzState state, Dice dice) {
        this.state = state;
        this.dice = dice;
        this.gpas = new GpaChoices(dice);
    }

    @Override
    public Set<OpKind> kinds() {
        return Set.of(OpKind.GUEST_WRITE, OpKind.GUEST_READ);
    }

    @Override
    public boolean canWrite(OpKind kind) {
        return true;
    }

    @Override
    public String write(OpKind kind, boolean bad) {
        long gpa = target();
        boolean store = kind == OpKind.GUEST_WRITE || !state.mayRead(gpa);
        state.accessed(gpa);
        return store
                ? "w " + Lines.hex(gpa) + " " + Lines.hex(Values.any(dice))
                : "r " + Lines.hex(gpa);
    }

    /** Mostly a word of a layout asked for, else near one or near an anchor. */
    private long target() {
        List<SlotPlan> live = state.slots().stream()
                .filter(p -> Long.compareUnsigned(p.gpa(), ReservedForRunner.ACCESS_LIMIT) < 0).toList();
        List<SlotPlan> history = state.history();
        int roll = dice.below(100);
        long gpa;
        if (roll < 55 && !live.isEmpty()) {
            gpa = inside(dice.pick(live));
        } else if (roll < 70 && !history.isEmpty()) {
            gpa = inside(recent(history)); // perhaps moved, deleted or never accepted
        } else if (roll < 85 && !history.isEmpty()) {
            SlotPlan p = recent(history);
            gpa = dice.chance(0.5) ? p.gpa() - Long.BYTES : p.gpa() + p.size();
        } else {
            return gpas.access();
        }
        long aligned = gpa & -Long.BYTES;
        return ReservedForRunner.isReachable(aligned) ? aligned : gpas.access();
    }

    /** One of the last few layouts asked for. */
    private SlotPlan recent(List<SlotPlan> history) {
        return history.get(history.size() - 1 - dice.below(Math.min(history.size(), 6)));
    }

    /** A word of {@code p}: often in its first, second or last page, so that stores and loads meet. */
    private long inside(SlotPlan p) {
        return p.gpa() + PAGE * Values.page(dice, p.pages()) + Values.wordInPage(dice);
    }
}
