package dev.runnel.groupcoord.txn;

/**
 * The transaction coordinator's settings, named after Kafka's broker keys.
 *
 * @param partitions                   transaction.state.log.num.partitions
 * @param maxTimeoutMs                 transaction.max.timeout.ms: longer transaction.timeout.ms gets INVALID_TRANSACTION_TIMEOUT
 * @param abortTimedOutIntervalMs      transaction.abort.timed.out.transaction.cleanup.interval.ms
 * @param transactionalIdExpirationMs  transactional.id.expiration.ms: an idle id unused this long is forgotten
 * @param removeExpiredIntervalMs      transaction.remove.expired.transaction.cleanup.interval.ms
 * @param markerRetryBackoffMs         the wait before markers that failed are sent again
 * @param transactionVersion           the finalized transaction.version feature: at 2 (transactions V2), an abort the
 *                                     coordinator decides itself (timeout, fencing) bumps the epoch twice, as Kafka's
 */
public record TransactionCoordinatorConfig(int partitions, int maxTimeoutMs, long abortTimedOutIntervalMs,
                                           long transactionalIdExpirationMs, long removeExpiredIntervalMs,
                                           long markerRetryBackoffMs, short transactionVersion) {
    /** With transaction.version 1. */
    public TransactionCoordinatorConfig(int partitions, int maxTimeoutMs, long abortTimedOutIntervalMs,
                                        long transactionalIdExpirationMs, long removeExpiredIntervalMs,
                                        long markerRetryBackoffMs) {
        this(partitions, maxTimeoutMs, abortTimedOutIntervalMs, transactionalIdExpirationMs, removeExpiredIntervalMs,
                markerRetryBackoffMs, (short) 1);
    }

    public static TransactionCoordinatorConfig defaults() {
        return new TransactionCoordinatorConfig(TransactionStateTopic.DEFAULT_PARTITIONS, 900_000, 10_000L,
                7L * 24 * 60 * 60 * 1000, 3_600_000L, 100L);
    }
}
