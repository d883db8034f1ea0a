package dev.mote;

/** A bug in mote: a broken invariant or a Rust panic, caught before it could cross into Java. Please report it. */
public class InternalException extends MoteException {
    private static final long serialVersionUID = 1L;

    public InternalException(String message) {
        super(message);
    }
}
