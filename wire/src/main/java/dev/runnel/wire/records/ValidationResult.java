package dev.runnel.wire.records;

/**
 * The outcome of {@link BatchValidator#validate}: either OK with a summary of what was seen, or the
 * first problem found, with the Kafka error code to answer it with.
 *
 * @param errorCode     {@link ErrorCodes#NONE} or the error
 * @param message       human-readable detail for the error, {@code null} when OK
 * @param batchIndex    index of the offending batch (0-based), or -1 when OK
 * @param errorPosition absolute buffer index of the offending batch, or -1 when OK
 * @param batchCount    number of batches validated (when OK: all of them)
 * @param recordCount   sum of RecordsCount over those batches
 * @param validBytes    bytes covered by those batches
 */
public record ValidationResult(int errorCode, String message, int batchIndex, int errorPosition,
                               int batchCount, long recordCount, int validBytes) {

    public boolean isOk() {
        return errorCode == ErrorCodes.NONE;
    }

    static ValidationResult ok(int batchCount, long recordCount, int validBytes) {
        return new ValidationResult(ErrorCodes.NONE, null, -1, -1, batchCount, recordCount, validBytes);
    }

    static ValidationResult error(int code, String message, int batchIndex, int position, int batchCount,
                                  long recordCount, int validBytes) {
        return new ValidationResult(code, message, batchIndex, position, batchCount, recordCount, validBytes);
    }
}
