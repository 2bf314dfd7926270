package dev.runnel.wire.records;

/** A problem found while reading records, with the Kafka error code to answer it with. */
public class RecordsException extends Exception {
    private static final long serialVersionUID = 1L;

    private final int errorCode;

    public RecordsException(int errorCode, String message) {
        super(message);
        this.errorCode = errorCode;
    }

    public RecordsException(int errorCode, String message, Throwable cause) {
        super(message, cause);
        this.errorCode = errorCode;
    }

    /** One of the {@link ErrorCodes} constants. */
    public int errorCode() {
        return errorCode;
    }
}
