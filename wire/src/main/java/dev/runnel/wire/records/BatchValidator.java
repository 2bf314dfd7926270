package dev.runnel.wire.records;

import java.nio.ByteBuffer;

/**
 * Validates a buffer of concatenated RecordBatches (the {@code records} of a produce request, or
 * batches to be written by the broker itself) before anything is written, and reports the first
 * problem precisely, in the order Kafka's broker checks them:
 * <ol>
 *   <li>no batch at all → {@link ErrorCodes#INVALID_RECORD}</li>
 *   <li>fewer bytes than a header up to the magic byte, or than 12 + Length → truncated,
 *       {@link ErrorCodes#CORRUPT_MESSAGE}</li>
 *   <li>magic 0 or 1 → {@link ErrorCodes#UNSUPPORTED_FOR_MESSAGE_FORMAT}; any other magic but 2 →
 *       {@link ErrorCodes#CORRUPT_MESSAGE}</li>
 *   <li>Length below 49 (a v2 header) → {@link ErrorCodes#CORRUPT_MESSAGE}</li>
 *   <li>12 + Length above the maximum ({@code max.message.bytes}) → {@link ErrorCodes#MESSAGE_TOO_LARGE}</li>
 *   <li>CRC-32C mismatch or an invalid codec id → {@link ErrorCodes#CORRUPT_MESSAGE}</li>
 *   <li>client appends only (Kafka's {@code AppendOrigin.CLIENT}): more than one batch, BaseOffset
 *       not 0, RecordsCount &lt;= 0 or not LastOffsetDelta + 1, a control batch, a producer id with a
 *       negative base sequence, and for uncompressed batches a record layout that does not add up
 *       to exactly RecordsCount records filling the batch → {@link ErrorCodes#INVALID_RECORD}; a
 *       LogAppendTime batch sent to a CreateTime topic → {@link ErrorCodes#INVALID_TIMESTAMP}</li>
 * </ol>
 * Allocation-free except for the returned result (and the message string on error).
 * Instances are immutable and thread-safe.
 */
public final class BatchValidator {
    private final int maxBatchBytes;
    private final boolean clientOrigin;
    private final TimestampType topicTimestampType;

    private BatchValidator(int maxBatchBytes, boolean clientOrigin, TimestampType topicTimestampType) {
        this.maxBatchBytes = maxBatchBytes;
        this.clientOrigin = clientOrigin;
        this.topicTimestampType = topicTimestampType;
    }

    /**
     * Full validation of a client's produce data, as Kafka validates {@code AppendOrigin.CLIENT}.
     *
     * @param maxBatchBytes      the topic's {@code max.message.bytes}
     * @param topicTimestampType the topic's {@code message.timestamp.type}
     */
    public static BatchValidator forClient(int maxBatchBytes, TimestampType topicTimestampType) {
        return new BatchValidator(maxBatchBytes, true, topicTimestampType);
    }

    /**
     * Framing, magic, size and CRC checks only: for batches the broker writes itself (coordinator
     * records, control batches) and for replicated batches (which may be compacted, so their counts
     * may legitimately not match their offset range).
     */
    public static BatchValidator forTrusted(int maxBatchBytes) {
        return new BatchValidator(maxBatchBytes, false, TimestampType.CREATE_TIME);
    }

    /** Validates the bytes from {@code records.position()} to {@code records.limit()}. */
    public ValidationResult validate(ByteBuffer records) {
        final RecordBatch batch = new RecordBatch();
        final int start = records.position();
        final int end = records.limit();
        int p = start;
        int index = 0;
        long recordCount = 0;
        if (end - start == 0) {
            return ValidationResult.error(ErrorCodes.INVALID_RECORD, "The records contain no record batch",
                    0, start, 0, 0, 0);
        }
        while (p < end) {
            int remaining = end - p;
            int validBytes = p - start;
            batch.wrap(records, p);
            if (remaining < RecordBatch.HEADER_SIZE_UP_TO_MAGIC) {
                return ValidationResult.error(ErrorCodes.CORRUPT_MESSAGE, "Truncated record batch at byte " + validBytes
                        + ": " + remaining + " bytes remain, fewer than a batch header", index, p, index, recordCount, validBytes);
            }
            byte magic = batch.magic();
            if (magic == 0 || magic == 1) {
                return ValidationResult.error(ErrorCodes.UNSUPPORTED_FOR_MESSAGE_FORMAT, "Record batch " + index
                        + " uses the legacy message format (magic " + magic + "); only magic 2 is supported",
                        index, p, index, recordCount, validBytes);
            }
            if (magic != RecordBatch.MAGIC_V2) {
                return ValidationResult.error(ErrorCodes.CORRUPT_MESSAGE, "Invalid magic found in record batch " + index
                        + ": " + magic, index, p, index, recordCount, validBytes);
            }
            int length = batch.batchLength();
            if (length < RecordBatch.MIN_LENGTH) {
                return ValidationResult.error(ErrorCodes.CORRUPT_MESSAGE, "Record batch " + index + " is corrupt: its length "
                        + length + " is smaller than the minimum " + RecordBatch.MIN_LENGTH, index, p, index, recordCount, validBytes);
            }
            if ((long) RecordBatch.LOG_OVERHEAD + length > remaining) {
                return ValidationResult.error(ErrorCodes.CORRUPT_MESSAGE, "Truncated record batch " + index + ": it declares "
                        + (RecordBatch.LOG_OVERHEAD + (long) length) + " bytes but only " + remaining + " remain",
                        index, p, index, recordCount, validBytes);
            }
            int size = RecordBatch.LOG_OVERHEAD + length;
            if (size > maxBatchBytes) {
                return ValidationResult.error(ErrorCodes.MESSAGE_TOO_LARGE, "The record batch size is " + size
                        + " bytes which exceeds the maximum configured value of " + maxBatchBytes,
                        index, p, index, recordCount, validBytes);
            }
            if (!batch.isCrcValid()) {
                return ValidationResult.error(ErrorCodes.CORRUPT_MESSAGE, "Record batch " + index + " is corrupt (stored crc = "
                        + batch.crc() + ", computed crc = " + batch.computeChecksum() + ")", index, p, index, recordCount, validBytes);
            }
            if (batch.compression() == null) {
                return ValidationResult.error(ErrorCodes.CORRUPT_MESSAGE, "Record batch " + index
                        + " has an unknown compression codec id " + batch.compressionType(), index, p, index, recordCount, validBytes);
            }
            int count = batch.recordsCount();
            if (clientOrigin) {
                String problem = clientProblem(batch, index);
                if (problem != null) {
                    return ValidationResult.error(ErrorCodes.INVALID_RECORD, problem, index, p, index, recordCount, validBytes);
                }
                if (topicTimestampType == TimestampType.CREATE_TIME && batch.timestampType() == TimestampType.LOG_APPEND_TIME) {
                    return ValidationResult.error(ErrorCodes.INVALID_TIMESTAMP, "Invalid timestamp type in record batch " + index
                            + ": producers must not set the timestamp type to LogAppendTime", index, p, index, recordCount, validBytes);
                }
                if (batch.compressionType() == 0) {
                    String layout = RecordLayout.check(records, p + RecordBatch.RECORDS_OFFSET, p + size, count);
                    if (layout != null) {
                        return ValidationResult.error(ErrorCodes.INVALID_RECORD, "Record batch " + index + ": " + layout,
                                index, p, index, recordCount, validBytes);
                    }
                }
            } else if (count < 0) {
                return ValidationResult.error(ErrorCodes.INVALID_RECORD, "Invalid reported count for record batch " + index
                        + ": " + count, index, p, index, recordCount, validBytes);
            }
            recordCount += count;
            p += size;
            index++;
        }
        return ValidationResult.ok(index, recordCount, p - start);
    }

    private static String clientProblem(RecordBatch batch, int index) {
        if (index > 0) {
            return "A produce request may contain only one record batch per partition";
        }
        if (batch.baseOffset() != 0) {
            return "The baseOffset of the record batch should be 0, but it is " + batch.baseOffset();
        }
        int count = batch.recordsCount();
        int delta = batch.lastOffsetDelta();
        if (delta < 0) {
            return "Batch has an invalid offset range: last offset delta " + delta;
        }
        if (count <= 0) {
            return "Invalid reported count for record batch: " + count;
        }
        if ((long) delta + 1 != count) {
            return "Inconsistent batch offset range [0, " + delta + "] and count of records " + count;
        }
        if (batch.isControl()) {
            return "Clients are not allowed to write control records";
        }
        if (batch.hasProducerId() && batch.baseSequence() < 0) {
            return "Invalid sequence number " + batch.baseSequence() + " in record batch with producerId " + batch.producerId();
        }
        return null;
    }
}
