package dev.runnel.groupcoord.txn;

import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * What the coordinator knows about one transactional id: an immutable value. Operations build the next value, the
 * runtime writes it to {@code __transaction_state} and installs it once it is durable.
 *
 * @param lastProducerId           the producer id before the last rotation (written only by transactions V2, as
 *                                 Kafka's tagged PreviousProducerId)
 * @param lastProducerEpoch        the epoch before the last bump (memory only), so a retried bump is recognised
 * @param startTimestampMs         when the current transaction began (first partition added), -1 when none
 * @param clientTransactionVersion the transaction version of the client that last changed the transaction: 2 for
 *                                 transactions V2 (KIP-890: the epoch is bumped by every EndTxn), below 2 for V1
 * @param nextProducerId           transactions V2 only: the producer id the transaction's id moves to once its
 *                                 markers are written, because the epoch just used up the last value; -1 when none
 */
public record TransactionMetadata(String transactionalId, long producerId, long lastProducerId, short producerEpoch,
                                  short lastProducerEpoch, int timeoutMs, TransactionState state,
                                  SortedSet<TxnPartition> partitions, long startTimestampMs, long lastUpdateTimestampMs,
                                  short clientTransactionVersion, long nextProducerId) {
    public static final short NO_EPOCH = -1;
    public static final long NO_PRODUCER_ID = -1L;
    /** The first transaction version whose EndTxn bumps the epoch (Kafka's TransactionVersion.TV_2). */
    public static final short TV_2 = 2;

    public TransactionMetadata {
        partitions = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(partitions));
    }

    /** A transactions V1 value (no next producer id). */
    public TransactionMetadata(String transactionalId, long producerId, long lastProducerId, short producerEpoch,
                               short lastProducerEpoch, int timeoutMs, TransactionState state,
                               SortedSet<TxnPartition> partitions, long startTimestampMs, long lastUpdateTimestampMs) {
        this(transactionalId, producerId, lastProducerId, producerEpoch, lastProducerEpoch, timeoutMs, state, partitions,
                startTimestampMs, lastUpdateTimestampMs, (short) 0, NO_PRODUCER_ID);
    }

    /** A producer epoch this high cannot be bumped again: the id is rotated instead (Kafka: Short.MAX_VALUE - 1). */
    public static boolean isEpochExhausted(short epoch) {
        return epoch >= Short.MAX_VALUE - 1;
    }

    public boolean isEpochExhausted() {
        return isEpochExhausted(producerEpoch);
    }

    /** Whether the client that runs this transaction uses transactions V2. */
    public boolean isTransactionsV2() {
        return clientTransactionVersion >= TV_2;
    }

    TransactionMetadata with(TransactionState newState, short epoch, short lastEpoch, Set<TxnPartition> newPartitions,
                             long startMs, long nowMs) {
        return new TransactionMetadata(transactionalId, producerId, lastProducerId, epoch, lastEpoch, timeoutMs, newState,
                new TreeSet<>(newPartitions), startMs, nowMs, clientTransactionVersion, nextProducerId);
    }

    TransactionMetadata withTimeout(int newTimeoutMs) {
        return new TransactionMetadata(transactionalId, producerId, lastProducerId, producerEpoch, lastProducerEpoch,
                newTimeoutMs, state, partitions, startTimestampMs, lastUpdateTimestampMs, clientTransactionVersion, nextProducerId);
    }

    TransactionMetadata withProducerId(long newProducerId, long previousProducerId) {
        return new TransactionMetadata(transactionalId, newProducerId, previousProducerId, producerEpoch, lastProducerEpoch,
                timeoutMs, state, partitions, startTimestampMs, lastUpdateTimestampMs, clientTransactionVersion, nextProducerId);
    }

    TransactionMetadata withClientTransactionVersion(short version) {
        return new TransactionMetadata(transactionalId, producerId, lastProducerId, producerEpoch, lastProducerEpoch,
                timeoutMs, state, partitions, startTimestampMs, lastUpdateTimestampMs, version, nextProducerId);
    }

    TransactionMetadata withNextProducerId(long next) {
        return new TransactionMetadata(transactionalId, producerId, lastProducerId, producerEpoch, lastProducerEpoch,
                timeoutMs, state, partitions, startTimestampMs, lastUpdateTimestampMs, clientTransactionVersion, next);
    }

    /** Whether the ongoing transaction has outlived its timeout at {@code nowMs}. */
    public boolean hasExpired(long nowMs) {
        return state == TransactionState.ONGOING && startTimestampMs >= 0 && startTimestampMs + timeoutMs <= nowMs;
    }
}
