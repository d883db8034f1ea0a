package dev.mote;

/**
 * A native method that panics on purpose, exported only by a library built with the cargo
 * feature {@code panic-probe} (scripts/android.sh builds the host library with it for the tests).
 */
final class PanicProbe {
    private PanicProbe() {}

    static native int panic();
}
