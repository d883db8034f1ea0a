package dev.mote;

/** An input or output used with the wrong element type, e.g. a {@code float[]} for an int8 tensor. */
public class WrongDTypeException extends MoteException {
    private static final long serialVersionUID = 1L;

    public WrongDTypeException(String message) {
        super(message);
    }
}
