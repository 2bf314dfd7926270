package dev.runnel.log;

import java.io.IOException;

/** A log operation refused with a Kafka error code (e.g. {@link LogErrors#OFFSET_OUT_OF_RANGE}). */
public class LogException extends IOException {
    private static final long serialVersionUID = 1L;

    private final int errorCode;

    public LogException(int errorCode, String message) {
        super(message);
        this.errorCode = errorCode;
    }

    public int errorCode() {
        return errorCode;
    }
}
