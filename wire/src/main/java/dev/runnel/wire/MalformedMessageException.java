package dev.runnel.wire;

/**
 * A message could not be read: a length or count runs past the end of the frame, a varint is too long,
 * or a value is not allowed. The broker answers with a Kafka error or closes the connection; it never
 * allocates on behalf of such a message.
 */
public final class MalformedMessageException extends RuntimeException {
    public MalformedMessageException(String message) {
        super(message, null, false, false);
    }
}
