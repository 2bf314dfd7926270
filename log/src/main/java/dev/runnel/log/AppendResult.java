package dev.runnel.log;

/**
 * The outcome of an append.
 *
 * @param errorCode      {@link LogErrors#NONE} or the Kafka error code
 * @param errorMessage   detail for the error, else {@code null}
 * @param firstOffset    offset of the first record appended (for a duplicate: of the original), -1 on error
 * @param lastOffset     offset of the last record appended (for a duplicate: of the original), -1 on error
 * @param logAppendTime  the broker time stamped on LogAppendTime topics, else -1 (for a duplicate,
 *                       Kafka reports the original batch's max timestamp here, and so do we)
 * @param logStartOffset the log start offset at the time
 * @param recordCount    records appended (0 for a duplicate or an error)
 * @param duplicate      whether the batch was a retry of one already in the log (nothing appended)
 * @param recordErrors   for INVALID_RECORD from per-record checks: each refused record's index in its batch and why
 *                       (Kafka's {@code record_errors} in the Produce response); else empty
 */
public record AppendResult(int errorCode, String errorMessage, long firstOffset, long lastOffset, long logAppendTime,
                           long logStartOffset, long recordCount, boolean duplicate, java.util.List<RecordError> recordErrors) {

    /** One refused record: its index in the batch and Kafka's message for it. */
    public record RecordError(int batchIndex, String message) {
    }

    public AppendResult(int errorCode, String errorMessage, long firstOffset, long lastOffset, long logAppendTime,
                        long logStartOffset, long recordCount, boolean duplicate) {
        this(errorCode, errorMessage, firstOffset, lastOffset, logAppendTime, logStartOffset, recordCount, duplicate,
                java.util.List.of());
    }

    public boolean isOk() {
        return errorCode == LogErrors.NONE;
    }

    static AppendResult error(int code, String message, long logStartOffset) {
        return new AppendResult(code, message, -1L, -1L, -1L, logStartOffset, 0, false);
    }
}
