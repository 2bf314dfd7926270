package dev.runnel.log;

import dev.runnel.wire.records.BatchBuilder;
import dev.runnel.wire.records.RecordBatch;
import dev.runnel.wire.records.RecordCursor;
import dev.runnel.wire.records.RecordsException;

import java.nio.ByteBuffer;

/**
 * A transaction marker: the one control record of a COMMIT or ABORT control batch, as Kafka writes it — key
 * {@code version int16 (0), type int16 (0 abort, 1 commit)}, value {@code version int16 (0), coordinator epoch
 * int32}. The batch is transactional and control, carries the producer's id and epoch, and is written by the
 * transaction coordinator ({@link AppendOrigin#COORDINATOR}) or copied by a follower.
 */
public record EndTxnMarker(boolean commit, int coordinatorEpoch) {
    public static final short ABORT_TYPE = 0;
    public static final short COMMIT_TYPE = 1;

    /**
     * Reads the marker of a complete control batch; null when the batch holds no readable marker record (Kafka
     * also knows other control record types, which do not end a transaction).
     */
    public static EndTxnMarker read(RecordBatch controlBatch) {
        if (!controlBatch.isControl() || !controlBatch.isComplete()) {
            return null;
        }
        try (RecordCursor c = RecordCursor.open(controlBatch)) {
            if (!c.next()) {
                return null;
            }
            byte[] key = c.key();
            byte[] value = c.value();
            if (key == null || key.length < 4 || value == null || value.length < 6) {
                return null;
            }
            ByteBuffer k = ByteBuffer.wrap(key);
            ByteBuffer v = ByteBuffer.wrap(value);
            short type = k.getShort(2);
            if (k.getShort(0) < 0 || v.getShort(0) < 0 || (type != ABORT_TYPE && type != COMMIT_TYPE)) {
                return null;
            }
            return new EndTxnMarker(type == COMMIT_TYPE, v.getInt(2));
        } catch (RecordsException e) {
            return null;
        }
    }

    /**
     * Builds the control batch of a marker (offset 0; the log assigns the real one), for the coordinator and tests.
     */
    public static ByteBuffer batch(long producerId, short producerEpoch, int coordinatorEpoch, boolean commit, long timestamp) {
        byte[] key = ByteBuffer.allocate(4).putShort((short) 0).putShort(commit ? COMMIT_TYPE : ABORT_TYPE).array();
        byte[] value = ByteBuffer.allocate(6).putShort((short) 0).putInt(coordinatorEpoch).array();
        return new BatchBuilder()
                .producer(producerId, producerEpoch, RecordBatch.NO_SEQUENCE)
                .transactional(true)
                .control(true)
                .append(timestamp, key, value)
                .build();
    }
}
