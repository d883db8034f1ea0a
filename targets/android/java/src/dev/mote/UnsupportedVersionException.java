package dev.mote;

/** The model was written for another major version of the .mote format: recompile it with this version's {@code mote compile}. */
public class UnsupportedVersionException extends InvalidModelException {
    private static final long serialVersionUID = 1L;

    public UnsupportedVersionException(String message) {
        super(message);
    }
}
