package dev.runnel.groupcoord.txn;

import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * What the coordinator knows about one transactional id: an immutable value. Operations build the next value, the
 * runtime writes it to {@code __transaction_state} and installs it once it is durable.
 *
 * @param lastProducerId    the producer id before the last rotation (memory only, as in Kafka's v0 records)
 * @param lastProducerEpoch the epoch before the last bump (memory only), so a retried bump is recognised
 * @param startTimestampMs  when the current transaction began (first partition added), -1 when none
 */
public record TransactionMetadata(String transactionalId, long producerId, long lastProducerId, short producerEpoch,
                                  short lastProducerEpoch, int timeoutMs, TransactionState state,
                                  SortedSet<TxnPartition> partitions, long startTimestampMs, long lastUpdateTimestampMs) {
    public static final short NO_EPOCH = -1;
    public static final long NO_PRODUCER_ID = -1L;

    public TransactionMetadata {
        partitions = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(partitions));
    }

    /** A producer epoch this high cannot be bumped again: the id is rotated instead (Kafka: Short.MAX_VALUE - 1). */
    public static boolean isEpochExhausted(short epoch) {
        return epoch >= Short.MAX_VALUE - 1;
    }

    public boolean isEpochExhausted() {
        return isEpochExhausted(producerEpoch);
    }

    TransactionMetadata with(TransactionState newState, short epoch, short lastEpoch, Set<TxnPartition> newPartitions,
                             long startMs, long nowMs) {
        return new TransactionMetadata(transactionalId, producerId, lastProducerId, epoch, lastEpoch, timeoutMs, newState,
                new TreeSet<>(newPartitions), startMs, nowMs);
    }

    TransactionMetadata withTimeout(int newTimeoutMs) {
        return new TransactionMetadata(transactionalId, producerId, lastProducerId, producerEpoch, lastProducerEpoch,
                newTimeoutMs, state, partitions, startTimestampMs, lastUpdateTimestampMs);
    }

    TransactionMetadata withProducerId(long newProducerId, long previousProducerId) {
        return new TransactionMetadata(transactionalId, newProducerId, previousProducerId, producerEpoch, lastProducerEpoch,
                timeoutMs, state, partitions, startTimestampMs, lastUpdateTimestampMs);
    }

    /** Whether the ongoing transaction has outlived its timeout at {@code nowMs}. */
    public boolean hasExpired(long nowMs) {
        return state == TransactionState.ONGOING && startTimestampMs >= 0 && startTimestampMs + timeoutMs <= nowMs;
    }
}
