package dev.runnel.groupcoord.txn;

import java.nio.ByteBuffer;

/**
 * Where the transaction coordinator keeps its records: the partitions of {@code __transaction_state}. The broker
 * implements it on its partition logs; tests keep the records in memory. Failures are
 * {@link dev.runnel.groupcoord.CoordinatorLog.CoordinatorLogException}s.
 */
public interface TransactionLog {
    /** Appends one record and returns when it is durable; {@code value} null is a tombstone. */
    long append(int partition, long timestampMs, byte[] key, byte[] value);

    /** Hands every record of the partition to {@code visitor}, in offset order. */
    void read(int partition, Visitor visitor);

    @FunctionalInterface
    interface Visitor {
        void accept(long offset, ByteBuffer key, ByteBuffer value);
    }
}
