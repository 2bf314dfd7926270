package dev.runnel.groupcoord.txn;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * Where the transaction coordinator keeps its records: the partitions of {@code __transaction_state}. The broker
 * implements it on its partition logs; tests keep the records in memory. Failures are
 * {@link dev.runnel.groupcoord.CoordinatorLog.CoordinatorLogException}s.
 */
public interface TransactionLog {
    /**
     * Appends one record ({@code value} null is a tombstone). The future completes with its offset once the record is
     * durable (on a replicated partition: once the in-sync replicas have it, as Kafka's acks=-1), or exceptionally
     * with a {@code CoordinatorLogException}; an append that fails at once may also throw it.
     */
    CompletableFuture<Long> append(int partition, long timestampMs, byte[] key, byte[] value);

    /** Hands every record of the partition to {@code visitor}, in offset order. */
    void read(int partition, Visitor visitor);

    @FunctionalInterface
    interface Visitor {
        void accept(long offset, ByteBuffer key, ByteBuffer value);
    }
}
