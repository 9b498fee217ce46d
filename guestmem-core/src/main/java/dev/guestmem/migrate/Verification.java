package dev.guestmem.migrate;

import java.util.List;

/**
 * What the byte-for-byte comparison of source and destination found.
 *
 * @param bytesCompared  bytes of guest memory compared
 * @param mismatches     pages that differ (the first {@value Verifier#MAX_REPORTED} found), as
 *                       {@code slot:page}
 * @param mismatchCount  number of pages that differ
 * @param problems       memslots placed differently in the two VMs, and words a destination vCPU reads
 *                       differently from the source
 * @param guestChecks    words read back through a destination vCPU and found equal to the source's
 */
public record Verification(long bytesCompared, List<String> mismatches, long mismatchCount, List<String> problems,
        long guestChecks) {
    public Verification {
        mismatches = List.copyOf(mismatches);
        problems = List.copyOf(problems);
    }

    /** Whether the destination holds exactly the source's memory, where the source has it. */
    public boolean ok() {
        return mismatchCount == 0 && problems.isEmpty();
    }
}
