package dev.mote;

/** No input or output with this index. */
public class NoSuchTensorException extends MoteException {
    private static final long serialVersionUID = 1L;

    public NoSuchTensorException(String message) {
        super(message);
    }
}
