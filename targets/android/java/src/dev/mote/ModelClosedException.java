package dev.mote;

/** The model was used after {@link Model#close()}. */
public class ModelClosedException extends InvalidStateException {
    private static final long serialVersionUID = 1L;

    public ModelClosedException(String message) {
        super(message);
    }
}
