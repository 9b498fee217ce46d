package dev.guestmem.cli;

import java.util.Locale;

/** The values of {@code --backend}. */
public enum BackendChoice {
    /** The pure-Java engine. */
    ENGINE,
    /** The real Linux KVM, through {@code /dev/kvm}. */
    KVM,
    /** Both, compared line by line. */
    BOTH;

    /** The name as typed on the command line. */
    String optionValue() {
        return name().toLowerCase(Locale.ROOT);
    }
}
