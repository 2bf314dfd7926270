package dev.runnel.broker.txn;

import dev.runnel.wire.records.BatchBuilder;
import java.nio.ByteBuffer;

/**
 * Transaction markers as Kafka writes them: a control batch (transactional and control attribute bits) of the
 * producer (id and epoch in the header, base sequence -1) holding one control record whose key is int16 version 0 +
 * int16 type (0 ABORT, 1 COMMIT) and whose value is Kafka's EndTransactionMarker: int16 version 0 + int32
 * coordinator epoch.
 */
public final class TxnMarkerBatch {
    public static final short ABORT = 0;
    public static final short COMMIT = 1;

    private TxnMarkerBatch() {
    }

    public static ByteBuffer build(long producerId, short producerEpoch, boolean commit, int coordinatorEpoch, long timestampMs) {
        byte[] key = ByteBuffer.allocate(4).putShort((short) 0).putShort(commit ? COMMIT : ABORT).array();
        byte[] value = ByteBuffer.allocate(6).putShort((short) 0).putInt(coordinatorEpoch).array();
        return new BatchBuilder()
                .producer(producerId, producerEpoch, -1)
                .transactional(true)
                .control(true)
                .append(timestampMs, key, value)
                .build();
    }

    /** The marker type in a control record key: COMMIT or ABORT, or -1 for another control record (or none). */
    public static short type(byte[] key) {
        if (key == null || key.length < 4) {
            return -1;
        }
        return ByteBuffer.wrap(key).getShort(2);
    }
}
