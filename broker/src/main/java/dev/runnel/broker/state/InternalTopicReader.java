package dev.runnel.broker.state;

import dev.runnel.groupcoord.CoordinatorLog.CoordinatorLogException;
import dev.runnel.log.LogReadResult;
import dev.runnel.wire.Errors;
import dev.runnel.wire.records.BatchCursor;
import dev.runnel.wire.records.RecordBatch;
import dev.runnel.wire.records.RecordsException;
import java.io.IOException;

/**
 * A coordinator's replay of one partition of its internal topic ({@code __consumer_offsets},
 * {@code __transaction_state}): every batch from the log start to the log end, read in chunks of whole batches.
 * What a batch means is the caller's; a read that fails is a {@link CoordinatorLogException} with
 * KAFKA_STORAGE_ERROR, so the coordinator reports the partition as not loaded.
 */
public final class InternalTopicReader {
    /** Sees each batch once, with the offset the replay has reached (records below it were seen already). */
    @FunctionalInterface
    public interface BatchVisitor {
        void accept(RecordBatch batch, long fromOffset) throws IOException, RecordsException;
    }

    private InternalTopicReader() {
    }

    public static void read(Partition p, int chunkBytes, BatchVisitor visitor) {
        long offset = p.logStartOffset();
        long end = p.logEndOffset();
        try {
            while (offset < end) {
                LogReadResult r = p.log().read(offset, chunkBytes, end, true);
                if (!r.isOk()) {
                    throw new CoordinatorLogException(Errors.KAFKA_STORAGE_ERROR, "Reading " + p + " at " + offset
                            + " failed with error " + r.errorCode(), null);
                }
                if (r.sizeInBytes() == 0) {
                    break;
                }
                BatchCursor batches = new BatchCursor(r.toByteBuffer());
                long before = offset;
                while (batches.next()) {
                    RecordBatch batch = batches.batch();
                    visitor.accept(batch, offset);
                    offset = Math.max(offset, batch.nextOffset());
                }
                if (offset == before) {
                    break;
                }
            }
        } catch (IOException | RecordsException e) {
            throw new CoordinatorLogException(Errors.KAFKA_STORAGE_ERROR, "Reading " + p + " failed: " + e.getMessage(), e);
        }
    }
}
