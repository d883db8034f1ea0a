package dev.mote;

/** Data of the wrong size for an input or output: it must be exactly {@link TensorInfo#byteSize()} bytes ({@link TensorInfo#elementCount()} elements). */
public class WrongSizeException extends MoteException {
    private static final long serialVersionUID = 1L;

    public WrongSizeException(String message) {
        super(message);
    }
}
