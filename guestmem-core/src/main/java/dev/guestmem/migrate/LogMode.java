package dev.guestmem.migrate;

/** How the migration learns which pages the guest dirtied (spec §4.3, §4.4, §4.6). */
public enum LogMode {
    /** {@code KVM_GET_DIRTY_LOG} without manual protection: each GET returns and clears. */
    BITMAP("bitmap"),
    /**
     * {@code KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2} with INITIALLY_SET: GET, then {@code KVM_CLEAR_DIRTY_LOG} of
     * what it returned; the all-ones start makes the first round send every page by itself.
     */
    CLEAR_LOG("clear-log"),
    /** {@code KVM_CAP_DIRTY_LOG_RING}: harvest every vCPU's ring, then {@code KVM_RESET_DIRTY_RINGS}. */
    RING("ring");

    private final String cliName;

    LogMode(String cliName) {
        this.cliName = cliName;
    }

    /** The name on the command line ({@code clear-log}). */
    public String cliName() {
        return cliName;
    }

    /** The mode named {@code name} on the command line. */
    public static LogMode parse(String name) {
        for (LogMode m : values()) {
            if (m.cliName.equalsIgnoreCase(name) || m.name().equalsIgnoreCase(name)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown mode '" + name + "' (bitmap, clear-log or ring)");
    }

    @Override
    public String toString() {
        return cliName;
    }
}
