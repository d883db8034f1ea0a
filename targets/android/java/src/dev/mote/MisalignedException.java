package dev.mote;

/** The model bytes of a direct buffer do not start at a 16-byte aligned address: allocate it with {@link Model#allocateAligned(int)}, or load a {@code byte[]}. */
public class MisalignedException extends MoteException {
    private static final long serialVersionUID = 1L;

    public MisalignedException(String message) {
        super(message);
    }
}
