package dev.guestmem.bench;

import dev.guestmem.memslot.MemslotImpl;
import dev.guestmem.perf.DirtyLogPerfOptions;
import dev.guestmem.perf.DirtyLogPerfReport;
import dev.guestmem.perf.DirtyLogPerfRun;
import dev.guestmem.vm.EngineVm;
import dev.guestmem.vm.VmType;
import java.util.Locale;

/**
 * {@code dirty_log_perf_test} (kernel-selftests.md §C) on the engine from the benchmarks jar, with the
 * selftest's flags; the sequence is {@link DirtyLogPerfRun}, shared with {@code guestmem perf dirty-log}.
 *
 * <p>{@code java -cp guestmem-bench/target/benchmarks.jar dev.guestmem.bench.DirtyLogPerf -v 2 -b 1G -i 5}
 */
public final class DirtyLogPerf {
    private DirtyLogPerf() {
    }

    public static void main(String[] args) throws InterruptedException {
        DirtyLogPerfOptions d = DirtyLogPerfOptions.defaults();
        int vcpus = d.vcpus();
        long bytes = d.bytesPerVcpu();
        int slots = d.slots();
        int iterations = d.iterations();
        boolean manual = d.manualProtect();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "-v" -> vcpus = Integer.parseInt(args[++i]);
                case "-b" -> bytes = parseBytes(args[++i]);
                case "-x" -> slots = Integer.parseInt(args[++i]);
                case "-i" -> iterations = Integer.parseInt(args[++i]);
                case "-g" -> manual = false;
                default -> throw new IllegalArgumentException(
                        "usage: DirtyLogPerf [-v VCPUS] [-b BYTES] [-x SLOTS] [-i N] [-g]");
            }
        }
        DirtyLogPerfOptions options = new DirtyLogPerfOptions(vcpus, bytes, slots, iterations, manual);
        System.out.printf(Locale.ROOT, "Testing guest mode: engine TDP, %d vCPU(s), %d MiB per vCPU, %d iterations, "
                + "manual protect %s%n", vcpus, bytes >>> 20, iterations, manual ? "ENABLE|INITIALLY_SET" : "off");
        DirtyLogPerfReport report;
        try (EngineVm vm = EngineVm.create(VmType.DEFAULT, MemslotImpl.TREE)) {
            report = DirtyLogPerfRun.run(vm, options);
        }
        report.lines(options).forEach(System.out::println);
    }

    private static long parseBytes(String text) {
        char unit = Character.toUpperCase(text.charAt(text.length() - 1));
        int shift = switch (unit) {
            case 'K' -> 10;
            case 'M' -> 20;
            case 'G' -> 30;
            default -> 0;
        };
        return Long.parseLong(shift == 0 ? text : text.substring(0, text.length() - 1)) << shift;
    }
}
