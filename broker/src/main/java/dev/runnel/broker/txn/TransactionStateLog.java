package dev.runnel.broker.txn;

import dev.runnel.broker.state.Partition;
import dev.runnel.groupcoord.CoordinatorLog.CoordinatorLogException;
import dev.runnel.groupcoord.txn.TransactionLog;
import dev.runnel.groupcoord.txn.TransactionStateTopic;
import dev.runnel.log.AppendResult;
import dev.runnel.wire.Errors;
import dev.runnel.wire.records.BatchBuilder;
import dev.runnel.wire.records.RecordCursor;
import java.nio.ByteBuffer;

/** The transaction coordinator's records in the partitions of {@code __transaction_state}: one batch per record. */
final class TransactionStateLog implements TransactionLog {
    private static final int READ_CHUNK_BYTES = 1 << 20;

    interface Partitions {
        /** The partition, creating the topic when {@code create} on a single node; null when there is none. */
        Partition partition(int index, boolean create);
    }

    private final Partitions partitions;
    private final dev.runnel.broker.Broker broker;
    private final long timeoutMs;
    private final java.util.concurrent.Executor callbacks;

    /**
     * @param callbacks where the coordinator's continuations run once the replicas confirmed a write: never on the
     *                  thread that moved the high watermark, which may hold a group coordinator's lock
     */
    TransactionStateLog(Partitions partitions, dev.runnel.broker.Broker broker, long timeoutMs,
                        java.util.concurrent.Executor callbacks) {
        this.partitions = partitions;
        this.broker = broker;
        this.timeoutMs = timeoutMs;
        this.callbacks = callbacks;
    }

    @Override
    public java.util.concurrent.CompletableFuture<Long> append(int partition, long timestampMs, byte[] key, byte[] value) {
        Partition p = partitions.partition(partition, true);
        if (p == null || !p.isOnline() || !p.isLeader()) {
            throw new CoordinatorLogException(Errors.NOT_LEADER_OR_FOLLOWER,
                    TransactionStateTopic.NAME + "-" + partition + " is not available here", null);
        }
        AppendResult result;
        try {
            result = p.appendAsLeader(new BatchBuilder().append(timestampMs, key, value).build());
        } catch (RuntimeException e) {
            throw new CoordinatorLogException(Errors.KAFKA_STORAGE_ERROR, e.getMessage(), e);
        }
        if (!result.isOk()) {
            throw new CoordinatorLogException(Errors.forCode((short) result.errorCode()), result.errorMessage(), null);
        }
        long offset = result.firstOffset();
        if (p.replicas() == null) {
            return java.util.concurrent.CompletableFuture.completedFuture(offset);
        }
        // Replicated: durable once the in-sync replicas have it (Kafka writes the transaction log with acks=-1), so
        // a new coordinator after a failover knows every state change this one acted on.
        return dev.runnel.broker.produce.AcksAllWait.start(p, offset + 1, timeoutMs, broker.timer(), broker.metrics())
                .thenApplyAsync(e -> {
                    if (e != Errors.NONE) {
                        throw new CoordinatorLogException(e, "the in-sync replicas of " + p + " did not confirm offset "
                                + offset + ": " + e, null);
                    }
                    return offset;
                }, callbacks);
    }

    @Override
    public void read(int partition, Visitor visitor) {
        Partition p = partitions.partition(partition, false);
        if (p == null) {
            return;
        }
        dev.runnel.broker.state.InternalTopicReader.read(p, READ_CHUNK_BYTES, (batch, from) -> {
            if (batch.isControl()) {
                return;
            }
            try (RecordCursor records = RecordCursor.open(batch)) {
                while (records.next()) {
                    if (records.offset() < from) {
                        continue;
                    }
                    byte[] key = records.key();
                    byte[] value = records.value();
                    visitor.accept(records.offset(), key == null ? null : ByteBuffer.wrap(key),
                            value == null ? null : ByteBuffer.wrap(value));
                }
            }
        });
    }
}
