package dev.runnel.groupcoord;

import dev.runnel.wire.Errors;

/** A request failed with a Kafka error code; the coordinator turns it into the error response of the API. */
public final class CoordinatorException extends RuntimeException {
    private final Errors error;

    public CoordinatorException(Errors error, String message) {
        super(message, null, false, false);
        this.error = error;
    }

    public CoordinatorException(Errors error) {
        this(error, error.name());
    }

    public Errors error() {
        return error;
    }
}
