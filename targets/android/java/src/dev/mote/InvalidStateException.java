package dev.mote;

/** A call out of order: a run with an input not written since the previous run (a run reuses the inputs' memory), or outputs read before a successful run. */
public class InvalidStateException extends MoteException {
    private static final long serialVersionUID = 1L;

    public InvalidStateException(String message) {
        super(message);
    }
}
