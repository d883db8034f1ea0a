package dev.mote;

/**
 * A mote call failed. The subclasses say why, so that an app can catch what it can handle:
 * {@link InvalidModelException} (damaged or foreign bytes), {@link UnsupportedVersionException},
 * {@link MisalignedException}, {@link NoSuchTensorException}, {@link WrongSizeException},
 * {@link WrongDTypeException}, {@link InvalidStateException} (and its {@link
 * ModelClosedException}), {@link InternalException} (a bug in mote). Unchecked, like the
 * exceptions of Java's own I/O-free APIs: most are programming errors.
 */
public class MoteException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public MoteException(String message) {
        super(message);
    }
}
