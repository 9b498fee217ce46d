package dev.guestmem.fuzz;

import static dev.guestmem.fuzz.GpaChoices.PAGE;

import dev.guestmem.memslot.KvmLimits;
import dev.guestmem.memslot.MemslotFlags;
import dev.guestmem.trace.HvaOperand;
import dev.guestmem.trace.OpKind;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * {@code region} and {@code region2} lines: creations, moves, flag toggles, deletions, aliases of one
 * hva range, overlaps and resizes (spec §1.1, §1.2), and deliberately refused ones (misaligned fields,
 * wrap-arounds, too many pages, slot ids at the limits, unknown flags, bad hvas, raw guest_memfd fds).
 * Slot ids never include 32763 (rule RESERVED_SLOT), layouts stay clear of the reserved window
 * (RESERVED_GPAS) and map only memory they may reach (HVA_IN_MAPPING, RAW_HVAS_NEVER_MAPPED) unless the
 * argument checks refuse them first.
 */
final class RegionOpWriter implements OpWriter {
    /** Ordinary ids, low ones likelier so that lines meet the same slot. */
    private static final int[] IDS = {0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 10, 100, 32762};
    /** Ids at and past the limits (32764 = KVM_USER_MEM_SLOTS, address space 1 and beyond); not 32763. */
    private static final int[] BAD_IDS = {32764, 32765, 32767, 0xFFFF, 0x10000, 0x10001, 0x17FFA, 0x7FFFFFFF,
        0x80000000, 0xFFFFFFFF};
    private static final int[] GOOD_FLAGS = {0, 0, 0, 0, MemslotFlags.LOG_DIRTY_PAGES, MemslotFlags.LOG_DIRTY_PAGES,
        MemslotFlags.READONLY, MemslotFlags.LOG_DIRTY_PAGES | MemslotFlags.READONLY};
    /** GUEST_MEMFD with dirty logging, bits no uAPI defines, kernel-internal bits. */
    private static final int[] BAD_FLAGS = {MemslotFlags.GUEST_MEMFD | MemslotFlags.LOG_DIRTY_PAGES, 8, 0x100,
        MemslotFlags.INVALID, 0x80000000};
    /** Raw hvas access_ok refuses: past TASK_SIZE_MAX, straddling it, kernel half, top of memory. */
    private static final long[] BAD_RAW_HVAS = {KvmLimits.TASK_SIZE_MAX, KvmLimits.TASK_SIZE_MAX - PAGE,
        0xFFFF800000000000L, 0xFFFFFFFFFFFFF000L};
    /** Raw guest_memfd fds that are never open (rule RAW_FDS_NEVER_OPEN). */
    private static final int[] RAW_FDS = {-1, -1, -1, (int) RuleChecker.NEVER_OPEN_FD, Integer.MAX_VALUE};
    private static final int NO_FD = -1;
    private static final int ATTEMPTS = 8;

    private enum Good { CREATE, MOVE, TOGGLE, DELETE, ALIAS, OVERLAP, RESHAPE, DELETE_MISSING }

    private enum Bad { GPA_ALIGN, SIZE_ALIGN, HVA_ALIGN, GPA_WRAP, RAW_HVA, TOO_MANY_PAGES, SLOT_ID, FLAGS, PAST_MAX_GFN }

    private static final int[] GOOD_WEIGHTS = {35, 12, 10, 12, 10, 10, 6, 5};
    private static final int[] BAD_WEIGHTS = {10, 10, 10, 10, 10, 8, 15, 15, 8};

    private final FuzzState state;
    private final Dice dice;
    private final GpaChoices gpas;

    RegionOpWriter(FuzzState state, Dice dice) {
        this.state = state;
        this.dice = dice;
        this.gpas = new GpaChoices(dice);
    }

    @Override
    public Set<OpKind> kinds() {
        return Set.of(OpKind.REGION, OpKind.REGION2);
    }

    @Override
    public boolean canWrite(OpKind kind) {
        return true;
    }

    @Override
    public String write(OpKind kind, boolean bad) {
        boolean v2 = kind == OpKind.REGION2;
        SlotPlan plan = named(bad ? bad(v2) : good());
        for (int attempt = 0; attempt < ATTEMPTS && !allowed(!v2, plan); attempt++) {
            plan = named(bad ? bad(v2) : good());
        }
        if (!allowed(!v2, plan)) {
            plan = fresh(freeIdOrAny()).withGpa(0); // fresh layouts are far smaller than the window's start
        }
        // A guest_memfd slot needs a guest_memfd: with a raw fd the request fails at the binding at the
        // latest (spec §5.4), after every check before it has had its say.
        boolean gmem = v2 && !bad && dice.chance(0.2);
        if (gmem) {
            plan = plan.withFlags(MemslotFlags.GUEST_MEMFD);
        }
        if (!ArgumentChecks.refused(!v2, plan.slot(), plan.flags(), plan.gpa(), plan.size(), plan.hva())) {
            state.asked(plan);
        }
        return v2 ? region2(plan, gmem, bad) : line("region", plan);
    }

    /**
     * {@code plan}, or, if it names a mapping whose name a failed mmap has unbound since (using it would be
     * a usage error), {@code plan} over the never-mapped first page instead.
     */
    private SlotPlan named(SlotPlan plan) {
        return plan.hva() instanceof HvaOperand.Named n && !state.isBound(n.name())
                ? plan.withHva(new HvaOperand.Address(0))
                : plan;
    }

    /**
     * Whether the rules allow {@code plan}: a request the argument checks refuse, or a deletion, touches
     * nothing; any other stays clear of the reserved window and maps only memory it may reach.
     */
    private boolean allowed(boolean v1, SlotPlan plan) {
        if (plan.size() == 0 || ArgumentChecks.refused(v1, plan.slot(), plan.flags(), plan.gpa(), plan.size(),
                plan.hva())) {
            return true;
        }
        return !ReservedForRunner.meetsWindow(plan.gpa(), plan.size()) && state.fits(plan.hva(), plan.size());
    }

    private String region2(SlotPlan plan, boolean gmem, boolean bad) {
        int fd = gmem || dice.chance(0.2) ? dice.pick(RAW_FDS) : NO_FD;
        long offset = !bad || dice.chance(0.5) ? 0 : dice.pick(PAGE / 2, -PAGE, 0xFFFFFFFFFFFFE000L);
        return line("region2", plan) + " " + fd + " " + Lines.hex(offset);
    }

    private String line(String keyword, SlotPlan p) {
        return keyword + " " + Lines.u32(p.slot()) + " " + Lines.u32(p.flags()) + " " + Lines.hex(p.gpa()) + " "
                + Lines.hex(p.size()) + " " + Lines.hva(p.hva());
    }

    // ---------------------------------------------------------------------------------------------
    // Good-looking requests: the kernel may still refuse them (overlaps, resizes), as any VMM would see.

    private SlotPlan good() {
        List<SlotPlan> slots = state.slots();
        Good shape = slots.isEmpty() ? Good.CREATE : Good.values()[dice.weighted(GOOD_WEIGHTS)];
        return switch (shape) {
            case CREATE -> fresh(freeIdOrAny());
            case DELETE_MISSING -> fresh(freeIdOrAny()).withSize(0);
            case MOVE -> sameRange(dice.pick(slots), p -> p.withGpa(gpas.forRange(p.size())));
            case TOGGLE -> sameRange(dice.pick(slots), p -> p.withFlags(p.flags()
                    ^ (dice.chance(0.7) ? MemslotFlags.LOG_DIRTY_PAGES : MemslotFlags.READONLY)));
            case DELETE -> {
                SlotPlan p = dice.pick(slots);
                // Deletion ignores gpa and hva beyond their alignment (spec §1.1 step 15).
                yield (dice.chance(0.5) ? p : p.withGpa(gpas.page())).withSize(0);
            }
            case ALIAS -> alias(dice.pick(slots));
            case OVERLAP -> overlap(dice.pick(slots));
            case RESHAPE -> reshape(dice.pick(slots));
        };
    }

    /** {@code change} of {@code p}, if {@code p}'s hva range still fits its name's mapping; else a creation. */
    private SlotPlan sameRange(SlotPlan p, UnaryOperator<SlotPlan> change) {
        return state.fits(p.hva(), p.size()) ? change.apply(p) : fresh(p.slot());
    }

    /** A new slot mapping (part of) the hva range of {@code p}: two gpas, one page of memory. */
    private SlotPlan alias(SlotPlan p) {
        long shift = PAGE * dice.below((int) Math.max(1, Math.min(p.pages(), 4)));
        HvaOperand hva = switch (p.hva()) {
            case HvaOperand.Named n -> new HvaOperand.Named(n.name(), n.offset() + shift);
            case HvaOperand.Address a -> a;
        };
        long size = Math.max(PAGE, p.size() - shift);
        if (!state.fits(hva, size)) {
            return fresh(freeIdOrAny());
        }
        return new SlotPlan(freeIdOrAny(), p.flags(), gpas.forRange(size), size, hva);
    }

    /** A new slot whose gpa range starts inside {@code p}'s: {@code EEXIST} if {@code p} exists. */
    private SlotPlan overlap(SlotPlan p) {
        SlotPlan fresh = fresh(freeIdOrAny());
        long gpa = p.gpa() + PAGE * dice.below((int) Math.min(p.pages(), 64));
        return ReservedForRunner.meetsWindow(gpa, fresh.size()) ? fresh : fresh.withGpa(gpa);
    }

    /** {@code p} with another size or hva: a modification may change neither (spec §1.1 step 17). */
    private SlotPlan reshape(SlotPlan p) {
        SlotPlan other = fresh(p.slot()).withGpa(p.gpa()).withFlags(p.flags());
        return ReservedForRunner.meetsWindow(other.gpa(), other.size()) ? fresh(p.slot()) : other;
    }

    /** A layout over a bound mapping (or the never-mapped first page when none is bound). */
    private SlotPlan fresh(int slot) {
        int flags = dice.pick(GOOD_FLAGS);
        List<String> names = state.boundNames();
        if (names.isEmpty()) {
            return new SlotPlan(slot, flags, gpas.forRange(PAGE), PAGE, new HvaOperand.Address(0));
        }
        String name = dice.pick(names);
        long mappingPages = state.mappingSize(name) / PAGE;
        long offsetPages = dice.chance(0.5) ? 0 : dice.between(0, mappingPages - 1);
        long room = mappingPages - offsetPages;
        long pages = dice.chance(0.5) ? room : Math.min(room, dice.pick(1, 2, 3, 16, 64));
        long size = pages * PAGE;
        return new SlotPlan(slot, flags, gpas.forRange(size), size, new HvaOperand.Named(name, offsetPages * PAGE));
    }

    private int freeIdOrAny() {
        for (int i = 0; i < 4; i++) {
            int id = dice.pick(IDS);
            if (state.slot(id).isEmpty()) {
                return id;
            }
        }
        return dice.pick(IDS);
    }

    // ---------------------------------------------------------------------------------------------
    // Refused requests. Each either fails an argument check that looks at no memory (spec §1.1 steps
    // 2-13), which lets it break the hva rules, or keeps them.

    private SlotPlan bad(boolean v2) {
        SlotPlan base = state.slots().isEmpty() || dice.chance(0.5) ? fresh(freeIdOrAny()) : dice.pick(state.slots());
        return switch (Bad.values()[dice.weighted(BAD_WEIGHTS)]) {
            case GPA_ALIGN -> base.withGpa(base.gpa() + dice.pick(1, 8, PAGE / 2));
            case SIZE_ALIGN -> base.withSize(base.size() + dice.pick(1, 8, PAGE / 2) - (dice.chance(0.5) ? PAGE : 0));
            case HVA_ALIGN -> base.withHva(switch (base.hva()) {
                case HvaOperand.Named n -> new HvaOperand.Named(n.name(), n.offset() + dice.pick(1, 0x10, PAGE / 2));
                case HvaOperand.Address a -> new HvaOperand.Address(a.value() + 0x10);
            });
            case GPA_WRAP -> base.withGpa(-PAGE * dice.between(1, 4)).withSize(PAGE * dice.between(5, 8));
            case RAW_HVA -> base.withHva(new HvaOperand.Address(dice.pick(BAD_RAW_HVAS)))
                    .withSize(Math.max(PAGE, base.size()) * 2);
            case TOO_MANY_PAGES -> base.withHva(new HvaOperand.Address(0))
                    .withSize(dice.chance(0.5) ? (KvmLimits.MEM_MAX_NR_PAGES + 1) * PAGE : 1L << 63)
                    .withGpa(PAGE * dice.below(16));
            case SLOT_ID -> base.withSlot(dice.pick(BAD_IDS));
            case FLAGS -> base.withFlags(v2 || dice.chance(0.5) ? dice.pick(BAD_FLAGS) : MemslotFlags.GUEST_MEMFD);
            case PAST_MAX_GFN -> pastMaxGfn(base);
        };
    }

    /** A layout ending past the MMU's last gfn: refused by arch preparation (spec §1.1 step 21, KMS-17). */
    private SlotPlan pastMaxGfn(SlotPlan base) {
        long end = (KvmLimits.MAX_GFN + 1) * PAGE + PAGE * dice.between(1, 4);
        return base.size() == 0 ? base : base.withGpa(end - base.size());
    }
}
