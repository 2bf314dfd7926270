package dev.runnel.log;

import dev.runnel.wire.records.BatchCursor;
import dev.runnel.wire.records.RecordBatch;
import dev.runnel.wire.records.RecordCursor;
import dev.runnel.wire.records.RecordsException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Kafka's {@code LogValidator.validateKey}: a compacted topic refuses each record without a key, reporting it by its
 * index in the batch with "Compacted topic cannot accept message without key in topic partition {@code t-p}", and
 * the whole append fails with INVALID_RECORD and Kafka's summary of the record errors. Reads every record
 * (decompressing), so it runs only for client appends to compacted topics, after the batch checks passed.
 */
final class KeylessRecordCheck {

    private KeylessRecordCheck() {
    }

    /** The records without a key, as Kafka's record errors (empty when all have keys). */
    static List<AppendResult.RecordError> find(ByteBuffer records, String topicPartition) throws RecordsException {
        List<AppendResult.RecordError> errors = new ArrayList<>(0);
        BatchCursor batches = new BatchCursor(records);
        while (batches.next()) {
            RecordBatch batch = batches.batch();
            if (batch.isControl()) {
                continue;
            }
            int index = 0; // per batch, as Kafka counts (a client's produce carries one batch)
            try (RecordCursor c = RecordCursor.open(batch)) {
                while (c.next()) {
                    if (c.key() == null) {
                        errors.add(new AppendResult.RecordError(index,
                                "Compacted topic cannot accept message without key in topic partition " + topicPartition));
                    }
                    index++;
                }
            }
        }
        return errors;
    }

    /** Kafka's {@code InvalidRecordException} message for a refused append (at most three errors shown). */
    static String summary(List<AppendResult.RecordError> errors) {
        StringBuilder shown = new StringBuilder("[");
        for (int i = 0; i < Math.min(errors.size(), 3); i++) {
            if (i > 0) {
                shown.append(", ");
            }
            AppendResult.RecordError e = errors.get(i);
            shown.append("RecordError(batchIndex=").append(e.batchIndex()).append(", message='").append(e.message()).append("')");
        }
        shown.append(']');
        return "One or more records have been rejected due to " + errors.size() + " record errors in total, and only "
                + "showing the first three errors at most: " + shown;
    }
}
