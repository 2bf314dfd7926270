package dev.runnel.metadata.raft;

/** This node is not the active controller (Kafka's NOT_CONTROLLER). */
public final class NotControllerException extends RuntimeException {
    public NotControllerException(String message) {
        super(message);
    }
}
