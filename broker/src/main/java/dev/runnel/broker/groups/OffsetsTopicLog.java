package dev.runnel.broker.groups;

import dev.runnel.broker.state.Partition;
import dev.runnel.groupcoord.CoordinatorLog;
import dev.runnel.groupcoord.CoordinatorRecord;
import dev.runnel.log.AppendResult;
import dev.runnel.wire.Errors;
import dev.runnel.wire.records.BatchBuilder;
import dev.runnel.wire.records.RecordCursor;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.function.IntFunction;

/**
 * The coordinator's records in the partitions of {@code __consumer_offsets}: one RecordBatch v2 per operation
 * (uncompressed, no producer id, as Kafka's coordinator writes them), read back batch by batch on load.
 */
final class OffsetsTopicLog implements CoordinatorLog {
    private static final int READ_CHUNK_BYTES = 1 << 20;

    /** The partition, creating the topic when {@code create} and it does not exist yet; null otherwise. */
    interface Partitions {
        Partition partition(int index, boolean create);
    }

    private final Partitions partitions;

    OffsetsTopicLog(Partitions partitions) {
        this.partitions = partitions;
    }

    @Override
    public long append(int partition, long timestampMs, List<CoordinatorRecord> records) {
        Partition p = partitions.partition(partition, true);
        if (p == null || !p.isOnline()) {
            throw new CoordinatorLogException(Errors.NOT_LEADER_OR_FOLLOWER, "__consumer_offsets-" + partition + " is not available", null);
        }
        BatchBuilder batch = new BatchBuilder();
        for (CoordinatorRecord r : records) {
            batch.append(timestampMs, r.serializeKey(), r.serializeValue());
        }
        AppendResult result;
        try {
            result = p.appendAsLeader(batch.build());
        } catch (RuntimeException e) {
            throw new CoordinatorLogException(Errors.KAFKA_STORAGE_ERROR, e.getMessage(), e);
        }
        if (!result.isOk()) {
            throw new CoordinatorLogException(Errors.forCode((short) result.errorCode()), result.errorMessage(), null);
        }
        return result.firstOffset();
    }

    @Override
    public long appendTransactional(int partition, long timestampMs, long producerId, short producerEpoch,
                                    List<CoordinatorRecord> records) {
        Partition p = partitions.partition(partition, true);
        if (p == null || !p.isOnline()) {
            throw new CoordinatorLogException(Errors.NOT_LEADER_OR_FOLLOWER, "__consumer_offsets-" + partition + " is not available", null);
        }
        // As Kafka's coordinator: a transactional batch of the producer, base sequence 0; the log checks its epoch only.
        BatchBuilder batch = new BatchBuilder().producer(producerId, producerEpoch, 0).transactional(true);
        for (CoordinatorRecord r : records) {
            batch.append(timestampMs, r.serializeKey(), r.serializeValue());
        }
        AppendResult result;
        try {
            result = p.appendAsLeader(batch.build(), dev.runnel.log.AppendOrigin.COORDINATOR);
        } catch (RuntimeException e) {
            throw new CoordinatorLogException(Errors.KAFKA_STORAGE_ERROR, e.getMessage(), e);
        }
        if (!result.isOk()) {
            throw new CoordinatorLogException(Errors.forCode((short) result.errorCode()), result.errorMessage(), null);
        }
        return result.firstOffset();
    }

    @Override
    public void read(int partition, RecordVisitor visitor) {
        Partition p = partitions.partition(partition, false);
        if (p == null) {
            return;
        }
        dev.runnel.broker.state.InternalTopicReader.read(p, READ_CHUNK_BYTES, (batch, from) -> {
            if (batch.isControl()) {
                try (RecordCursor records = RecordCursor.open(batch)) {
                    if (records.next() && batch.baseOffset() >= from) {
                        short type = dev.runnel.broker.txn.TxnMarkerBatch.type(records.key());
                        if (type == dev.runnel.broker.txn.TxnMarkerBatch.COMMIT || type == dev.runnel.broker.txn.TxnMarkerBatch.ABORT) {
                            visitor.marker(batch.baseOffset(), batch.producerId(), type == dev.runnel.broker.txn.TxnMarkerBatch.COMMIT);
                        }
                    }
                }
                return;
            }
            try (RecordCursor records = RecordCursor.open(batch)) {
                while (records.next()) {
                    if (records.offset() < from) {
                        continue;
                    }
                    byte[] key = records.key();
                    byte[] value = records.value();
                    visitor.accept(records.offset(), batch.producerId(), key == null ? null : ByteBuffer.wrap(key),
                            value == null ? null : ByteBuffer.wrap(value));
                }
            }
        });
    }
}
