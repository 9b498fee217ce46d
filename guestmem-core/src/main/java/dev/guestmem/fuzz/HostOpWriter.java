package dev.guestmem.fuzz;

import static dev.guestmem.fuzz.GpaChoices.PAGE;

import dev.guestmem.host.HostMemory;
import dev.guestmem.trace.HvaOperand;
import dev.guestmem.trace.OpKind;
import java.util.List;
import java.util.Set;

/**
 * Host address-space lines: {@code mmap}, {@code munmap}, {@code madvise}, {@code mprotect}, {@code hw}
 * and {@code hr}. Ranges and accesses stay inside the mapping they name (rule HVA_IN_MAPPING), raw
 * addresses are never mappable ones (RAW_HVAS_NEVER_MAPPED). A {@code munmap} keeps its addresses
 * reserved in both replays ({@link HostMemory#munmap}), so slots over it fault alike and later mappings
 * take its place alike.
 */
final class HostOpWriter implements OpWriter {
    /** Mapping sizes, in pages, up to 4 MiB: room for whole 2 MiB frames, little touched. */
    private static final long[] MAPPING_PAGES = {1, 2, 3, 4, 8, 16, 32, 64, 128, 255, 512, 1024};
    /** Sizes {@link HostMemory#mmap} refuses: 0 (EINVAL), past the user address space, wrapping (ENOMEM). */
    private static final long[] BAD_MAPPING_SIZES = {0, HostMemory.TASK_SIZE + PAGE, -1L};
    /** Raw host addresses no mapping can have: the never-mapped first page, the kernel half. */
    private static final long[] RAW_HOST_ADDRESSES = {0, 0x8, 0xFFFF800000000000L};

    private final FuzzState state;
    private final Dice dice;

    HostOpWriter(FuzzState state, Dice dice) {
        this.state = state;
        this.dice = dice;
    }

    @Override
    public Set<OpKind> kinds() {
        return Set.of(OpKind.MMAP, OpKind.MUNMAP, OpKind.MADVISE, OpKind.MPROTECT, OpKind.HOST_WRITE,
                OpKind.HOST_READ);
    }

    @Override
    public boolean canWrite(OpKind kind) {
        boolean bound = !state.boundNames().isEmpty();
        return switch (kind) {
            case MUNMAP -> !state.mappedNames().isEmpty();
            case MADVISE, MPROTECT -> bound;
            default -> true;
        };
    }

    @Override
    public String write(OpKind kind, boolean bad) {
        return switch (kind) {
            case MMAP -> mmap(bad);
            case MUNMAP -> munmap();
            case MADVISE -> range("madvise", bad, dice.chance(0.8) ? "dontneed" : dice.chance(0.5) ? "hugepage"
                    : "nohugepage");
            case MPROTECT -> range("mprotect", bad, switch (dice.below(5)) {
                case 0, 1 -> "rw";
                case 2, 3 -> "ro";
                default -> "none";
            });
            case HOST_WRITE -> "hw " + Lines.hva(hostAddress(bad)) + " " + Lines.hex(Values.any(dice));
            case HOST_READ -> "hr " + Lines.hva(hostAddress(bad));
            default -> throw new IllegalArgumentException("not a host operation: " + kind);
        };
    }

    /** A failed mmap leaves the name unbound (trace-format.md, ReplayNames): later lines must not use it. */
    private String mmap(boolean bad) {
        String name = dice.pick(FuzzState.NAMES);
        if (bad) {
            state.unbind(name);
            return "mmap " + name + " " + Lines.hex(dice.pick(BAD_MAPPING_SIZES));
        }
        long size = PAGE * dice.pick(MAPPING_PAGES);
        state.bind(name, size);
        // A length that is not a page multiple is rounded up, as mmap(2) does.
        long written = dice.chance(0.1) ? size - PAGE / 2 : size;
        return "mmap " + name + " " + Lines.hex(written);
    }

    private String munmap() {
        String name = dice.pick(state.mappedNames());
        state.unmap(name);
        return "munmap " + name;
    }

    /** {@code madvise}/{@code mprotect} of pages inside the mapping; bad: a misaligned offset (EINVAL). */
    private String range(String keyword, boolean bad, String what) {
        String name = dice.pick(state.boundNames());
        long pages = state.mappingSize(name) / PAGE;
        long first = dice.chance(0.4) ? 0 : dice.between(0, pages - 1);
        long count = dice.chance(0.4) ? pages - first : dice.between(1, pages - first);
        long offset = first * PAGE;
        long length = count * PAGE;
        if (bad) {
            if (dice.chance(0.5)) {
                offset += dice.pick(1, 8, PAGE / 2);
            } else {
                length = 0; // a no-op that succeeds
            }
        } else if (dice.chance(0.1)) {
            length -= PAGE / 2; // rounded up to the page
        }
        return keyword + " " + name + " " + Lines.hex(offset) + " " + Lines.hex(length) + " " + what;
    }

    /**
     * An 8-aligned word inside a bound mapping, half the time behind a page of a slot that guest accesses
     * favour (so that a host store meets a page a guest read mapped as the zero page); bad (or nothing
     * bound): a raw address nobody maps.
     */
    private HvaOperand hostAddress(boolean bad) {
        List<String> names = state.boundNames();
        if (bad || names.isEmpty()) {
            return new HvaOperand.Address(dice.pick(RAW_HOST_ADDRESSES));
        }
        List<SlotPlan> named = state.slots().stream().filter(p -> p.hva() instanceof HvaOperand.Named).toList();
        if (!named.isEmpty() && dice.chance(0.5)) {
            SlotPlan p = dice.pick(named);
            HvaOperand.Named base = (HvaOperand.Named) p.hva();
            HvaOperand behind = new HvaOperand.Named(base.name(),
                    base.offset() + Values.page(dice, p.pages()) * PAGE + Values.wordInPage(dice));
            if (state.fits(behind, Long.BYTES)) {
                return behind; // the name may have been rebound since: then only if it still fits
            }
        }
        String name = dice.pick(names);
        long pages = state.mappingSize(name) / PAGE;
        return new HvaOperand.Named(name, Values.page(dice, pages) * PAGE + Values.wordInPage(dice));
    }
}
