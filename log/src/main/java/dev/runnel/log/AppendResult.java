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
 */
public record AppendResult(int errorCode, String errorMessage, long firstOffset, long lastOffset, long logAppendTime,
                           long logStartOffset, long recordCount, boolean duplicate) {

    public boolean isOk() {
        return errorCode == LogErrors.NONE;
    }

    static AppendResult error(int code, String message, long logStartOffset) {
        return new AppendResult(code, message, -1L, -1L, -1L, logStartOffset, 0, false);
    }
}
