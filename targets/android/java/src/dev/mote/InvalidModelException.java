package dev.mote;

/** The bytes are not a valid .mote model: damaged, truncated, not a model, or an op whose shapes or parameters do not fit. */
public class InvalidModelException extends MoteException {
    private static final long serialVersionUID = 1L;

    public InvalidModelException(String message) {
        super(message);
    }
}
