package dev.runnel.metadata.raft;

/**
 * {@link MetadataLogListener#handleControllerRequest} failed on the (remote) leader. Carries the remote exception's
 * class name and message; the remote stack trace is not transported.
 */
public final class ControllerCallException extends RuntimeException {
    private final String remoteClass;

    public ControllerCallException(String remoteClass, String message) {
        super(remoteClass + ": " + message);
        this.remoteClass = remoteClass;
    }

    /** Fully qualified class name of the exception the leader's handler failed with. */
    public String remoteClass() {
        return remoteClass;
    }
}
