package dev.runnel.log;

import dev.runnel.wire.records.ErrorCodes;

/**
 * Kafka error codes the log answers with, as plain ints (the broker maps them to its error enum).
 * Record-validation codes come from {@link ErrorCodes}.
 */
public final class LogErrors {
    public static final int NONE = 0;
    public static final int OFFSET_OUT_OF_RANGE = 1;
    public static final int CORRUPT_MESSAGE = ErrorCodes.CORRUPT_MESSAGE;
    public static final int MESSAGE_TOO_LARGE = ErrorCodes.MESSAGE_TOO_LARGE;
    public static final int RECORD_LIST_TOO_LARGE = ErrorCodes.RECORD_LIST_TOO_LARGE;
    public static final int INVALID_TIMESTAMP = ErrorCodes.INVALID_TIMESTAMP;
    public static final int UNSUPPORTED_FOR_MESSAGE_FORMAT = ErrorCodes.UNSUPPORTED_FOR_MESSAGE_FORMAT;
    public static final int OUT_OF_ORDER_SEQUENCE_NUMBER = 45;
    public static final int INVALID_PRODUCER_EPOCH = 47;
    public static final int INVALID_TXN_STATE = 48;
    public static final int TRANSACTION_COORDINATOR_FENCED = 52;
    public static final int KAFKA_STORAGE_ERROR = 56;
    public static final int INVALID_RECORD = ErrorCodes.INVALID_RECORD;

    private LogErrors() {
    }
}
