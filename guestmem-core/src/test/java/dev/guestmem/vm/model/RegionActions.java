package dev.guestmem.vm.model;

import static dev.guestmem.vm.model.ReferenceMemslots.GUEST_MEMFD;
import static dev.guestmem.vm.model.ReferenceMemslots.LOG_DIRTY_PAGES;
import static dev.guestmem.vm.model.ReferenceMemslots.PAGE;
import static dev.guestmem.vm.model.ReferenceMemslots.READONLY;
import static dev.guestmem.vm.model.ReferenceMemslots.USER_TOP;

import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.vm.VmType;
import dev.guestmem.vm.model.ReferenceMemslots.Mutation;
import dev.guestmem.vm.model.ReferenceMemslots.Slot;
import dev.guestmem.vm.model.RegionLockstep.FdRole;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;
import net.jqwik.api.state.Action;
import net.jqwik.api.state.ActionChain;
import net.jqwik.api.state.ActionChainArbitrary;
import net.jqwik.api.state.ChangeDetector;
import net.jqwik.api.state.Transformer;

/**
 * Generators for the lockstep property: random set-memory-region calls drawn so that every rule of
 * spec §1.1 fires often (small id pool plus edge ids and address-space bits, flag combinations, a small
 * gpa grid so overlaps, moves and adjacency are common, edge sizes and hvas), and calls derived from an
 * existing slot (re-send, toggle LOG, move, delete with stale or clean fields, change an immutable field,
 * clear or set GUEST_MEMFD, copy into the other address space).
 */
public final class RegionActions {
    static final long MB2 = 0x200000;
    static final long HVA_BASE = 0x7f00_0000_0000L;

    private RegionActions() {
    }

    /** Lockstep chains of up to {@code maxCalls} calls on a fresh VM of {@code type} and {@code impl}. */
    public static ActionChainArbitrary<RegionLockstep> chains(VmType type, MemslotImpl impl, Mutation mutation,
            int maxCalls) {
        return ActionChain.<RegionLockstep>startWith(() -> RegionLockstep.start(type, impl, mutation))
                .withAction(5, new RandomCall())
                .withAction(4, new DerivedCall())
                .withMaxTransformations(maxCalls)
                .improveShrinkingWith(ModelChange::new);
    }

    /** Tells the shrinker which calls changed nothing (failed or no-op), so it may drop them first. */
    static final class ModelChange implements ChangeDetector<RegionLockstep> {
        private String before;

        @Override
        public void before(RegionLockstep state) {
            before = state.fingerprint();
        }

        @Override
        public boolean hasChanged(RegionLockstep state) {
            return !before.equals(state.fingerprint());
        }
    }

    /** Any call, drawn from the pools below. */
    static final class RandomCall implements Action.Independent<RegionLockstep> {
        @Override
        public Arbitrary<Transformer<RegionLockstep>> transformer() {
            return requests().map(g -> Transformer.mutate(g.toString(), s -> s.apply(g)));
        }
    }

    /** A call derived from a slot that exists in the model. */
    static final class DerivedCall implements Action.Dependent<RegionLockstep> {
        @Override
        public boolean precondition(RegionLockstep state) {
            return !state.model().allSlots().isEmpty();
        }

        @Override
        public Arbitrary<Transformer<RegionLockstep>> transformer(RegionLockstep state) {
            Arbitrary<Slot> slots = Arbitraries.of(state.model().allSlots());
            return Combinators.combine(slots, Arbitraries.of(Variant.class), Arbitraries.of(true, false), gpas(),
                    flags(), hvas(), fdRoles())
                    .as((slot, variant, v1IfPossible, gpa, flags, hva, role) -> {
                        GeneratedRequest g = variant.derive(state, slot, v1IfPossible, gpa, flags, hva, role);
                        return Transformer.<RegionLockstep>mutate(variant + ": " + g, s -> s.apply(g));
                    });
        }
    }

    /** How a derived call changes the existing slot's fields. */
    enum Variant {
        RESEND, TOGGLE_LOG, MOVE, MOVE_TOGGLE_LOG, DELETE_CLEAN, DELETE_STALE, CHANGE_HVA, GROW, SHRINK, TOGGLE_RO,
        CLEAR_GMEM, SET_GMEM, OTHER_ADDRESS_SPACE;

        GeneratedRequest derive(RegionLockstep state, Slot s, boolean v1IfPossible, long randomGpa, int randomFlags,
                HvaChoice randomHva, FdRole randomRole) {
            int word = s.slotWord();
            int flags = s.userFlags();
            long gpa = s.baseGfn() * PAGE;
            long size = s.npages() * PAGE;
            long hva = s.userspaceAddr();
            FdRole role = s.hasGmem() ? state.role(s.gmemFd()) : randomRole;
            long offset = s.gmemPgoff() * PAGE;
            switch (this) {
                case RESEND -> {
                }
                case TOGGLE_LOG -> flags ^= LOG_DIRTY_PAGES;
                case MOVE -> gpa = randomGpa;
                case MOVE_TOGGLE_LOG -> {
                    gpa = randomGpa;
                    flags ^= LOG_DIRTY_PAGES;
                }
                case DELETE_CLEAN -> size = 0;
                case DELETE_STALE -> {
                    size = 0;
                    gpa = randomGpa;
                    flags = randomFlags;
                    hva = randomHva.resolve(0);
                    role = randomRole;
                }
                case CHANGE_HVA -> hva = randomHva.resolve(size) == hva ? hva + PAGE : randomHva.resolve(size);
                case GROW -> size += PAGE;
                case SHRINK -> size = size > PAGE ? size - PAGE : size + 2 * PAGE;
                case TOGGLE_RO -> flags ^= READONLY;
                case CLEAR_GMEM -> flags &= ~GUEST_MEMFD;
                case SET_GMEM -> flags |= GUEST_MEMFD;
                case OTHER_ADDRESS_SPACE -> word ^= 1 << 16;
            }
            boolean v2 = (flags & ~(LOG_DIRTY_PAGES | READONLY)) != 0 || !v1IfPossible;
            return new GeneratedRequest(v2, word, flags, gpa, size, hva, role, offset);
        }
    }

    /** Random calls. */
    static Arbitrary<GeneratedRequest> requests() {
        return Combinators.combine(Arbitraries.frequency(Tuple.of(3, true), Tuple.of(1, false)), slotWords(),
                flags(), gpas(), sizes(), hvas(), fdRoles(), gmemOffsets())
                .as((v2, slot, flags, gpa, size, hva, role, offset) ->
                        new GeneratedRequest(v2, slot, flags, gpa, size, hva.resolve(size), role, offset));
    }

    /** as_id bits 0 and 1 mostly, 2 and random ones sometimes; ids 0..7 mostly, edge ids sometimes. */
    static Arbitrary<Integer> slotWords() {
        Arbitrary<Integer> asIds = Arbitraries.frequencyOf(
                Tuple.of(12, Arbitraries.just(0)),
                Tuple.of(6, Arbitraries.just(1)),
                Tuple.of(1, Arbitraries.just(2)),
                Tuple.of(1, Arbitraries.integers().between(3, 0xFFFF)));
        Arbitrary<Integer> ids = Arbitraries.frequencyOf(
                Tuple.of(24, Arbitraries.integers().between(0, 7)),
                Tuple.of(2, Arbitraries.of(32763, 32764, 32766, 0xFFFF)));
        return Combinators.combine(asIds, ids).as((as, id) -> as << 16 | id);
    }

    static Arbitrary<Integer> flags() {
        return Arbitraries.frequencyOf(
                Tuple.of(8, Arbitraries.just(0)),
                Tuple.of(4, Arbitraries.just(LOG_DIRTY_PAGES)),
                Tuple.of(3, Arbitraries.just(READONLY)),
                Tuple.of(2, Arbitraries.just(LOG_DIRTY_PAGES | READONLY)),
                Tuple.of(7, Arbitraries.just(GUEST_MEMFD)),
                Tuple.of(1, Arbitraries.just(GUEST_MEMFD | LOG_DIRTY_PAGES)),
                Tuple.of(1, Arbitraries.just(GUEST_MEMFD | READONLY)),
                Tuple.of(1, Arbitraries.integers().between(3, 31).map(bit -> 1 << bit)),
                Tuple.of(1, Arbitraries.integers().map(bits -> bits | 1 << 3)));
    }

    /** A 16-page grid (overlaps and adjacency are common), a few 2 MiB steps, and edge values. */
    static Arbitrary<Long> gpas() {
        return Arbitraries.frequencyOf(
                Tuple.of(24, Arbitraries.longs().between(0, 15).map(k -> k * PAGE)),
                Tuple.of(3, Arbitraries.longs().between(0, 3).map(k -> k * MB2)),
                Tuple.of(2, Arbitraries.of(0x800L, 0x1001L, 0xffff_ffff_ffff_f000L, 0xffff_ffff_ffff_e000L,
                        0xffff_ffff_ffe0_0000L, 0x8000_0000_0000_0000L, 0x000f_ffff_ffff_f000L,
                        0xffff_ffff_ffff_f800L, 0x7fff_ffffL << 12)));
    }

    /** 0, 1..4 pages, 2 MiB, and edge sizes (unaligned, 2^31 and 2^31 - 1 pages, huge). */
    static Arbitrary<Long> sizes() {
        return Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.just(0L)),
                Tuple.of(16, Arbitraries.longs().between(1, 4).map(n -> n * PAGE)),
                Tuple.of(2, Arbitraries.just(MB2)),
                Tuple.of(2, Arbitraries.of(0x1001L, 0x800L, 0xfffL, 1L << 43, 0x7fff_ffffL << 12,
                        0x8000_0000_0000_0000L, 0xffff_ffff_ffff_f000L, 0x1000_0000_0000L)));
    }

    /** An hva, possibly relative to the top of user space for the call's size. */
    record HvaChoice(long fixed, boolean belowTop, long delta) {
        long resolve(long size) {
            return belowTop ? USER_TOP - size + delta : fixed;
        }
    }

    /** A few aligned addresses (aliasing is common) and edge values around 0 and the top of user space. */
    static Arbitrary<HvaChoice> hvas() {
        return Arbitraries.frequencyOf(
                Tuple.of(16, Arbitraries.of(HVA_BASE, HVA_BASE + PAGE, HVA_BASE + 2 * PAGE, HVA_BASE + 3 * PAGE,
                        HVA_BASE + MB2, 0x1000_0000L).map(a -> new HvaChoice(a, false, 0))),
                Tuple.of(2, Arbitraries.of(
                        new HvaChoice(0, false, 0),
                        new HvaChoice(HVA_BASE + 0x10, false, 0),
                        new HvaChoice(0xffff_8000_0000_0000L, false, 0),
                        new HvaChoice(1L << 47, false, 0),
                        new HvaChoice(USER_TOP, false, 0),
                        new HvaChoice(0xffff_ffff_ffff_f000L, false, 0))),
                Tuple.of(3, Arbitraries.of(
                        new HvaChoice(0, true, 0),
                        new HvaChoice(0, true, PAGE),
                        new HvaChoice(0, true, -PAGE))));
    }

    static Arbitrary<FdRole> fdRoles() {
        return Arbitraries.frequency(
                Tuple.of(6, FdRole.SMALL),
                Tuple.of(4, FdRole.MMAP),
                Tuple.of(1, FdRole.FOREIGN),
                Tuple.of(1, FdRole.NOT_GMEM),
                Tuple.of(1, FdRole.NEVER_OPEN),
                Tuple.of(1, FdRole.MINUS_ONE));
    }

    static Arbitrary<Long> gmemOffsets() {
        return Arbitraries.frequencyOf(
                Tuple.of(12, Arbitraries.longs().between(0, 8).map(k -> k * PAGE)),
                Tuple.of(2, Arbitraries.just(MB2)),
                Tuple.of(2, Arbitraries.of(0x800L, 0x8000_0000_0000_0000L, 0xffff_ffff_ffff_f000L,
                        0x7fff_ffff_ffff_f000L, 0xffff_ffff_ffe0_0000L)));
    }
}
