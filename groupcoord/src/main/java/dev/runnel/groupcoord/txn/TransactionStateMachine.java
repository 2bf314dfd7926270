package dev.runnel.groupcoord.txn;

import static dev.runnel.groupcoord.txn.TransactionMetadata.NO_EPOCH;
import static dev.runnel.groupcoord.txn.TransactionMetadata.NO_PRODUCER_ID;

import dev.runnel.wire.Errors;
import java.util.Collection;
import java.util.Set;
import java.util.TreeSet;

/**
 * Kafka's transaction state machine (transactions V1) as pure functions: given what the coordinator holds for a
 * transactional id and a request, the next value to write and the answer. No I/O, no clock, no locks: the
 * {@link TransactionCoordinator} runs them one at a time per {@code __transaction_state} partition and writes their
 * results.
 */
public final class TransactionStateMachine {
    private TransactionStateMachine() {
    }

    /**
     * What an operation decided.
     *
     * @param error            the answer to the client (after {@code next} is durable, when there is a {@code next})
     * @param next             the value to write to {@code __transaction_state}, or null when nothing changes
     * @param sendMarkers      whether {@code next} is a PrepareCommit/PrepareAbort whose markers must now be written
     * @param needsProducerId  the operation needs a fresh producer id: allocate one and run it again with it
     */
    public record Decision(Errors error, TransactionMetadata next, boolean sendMarkers, boolean needsProducerId) {
        static Decision error(Errors e) {
            return new Decision(e, null, false, false);
        }

        static Decision write(TransactionMetadata next) {
            return new Decision(Errors.NONE, next, next.state().isPrepare(), false);
        }

        static final Decision NEEDS_PRODUCER_ID = new Decision(Errors.NONE, null, false, true);
        static final Decision NOTHING = new Decision(Errors.NONE, null, false, false);
    }

    // ------------------------------------------------------------------ InitProducerId

    /**
     * InitProducerId with a transactional id. A new id gets a fresh producer id and epoch 0; an idle one gets its
     * epoch bumped (or, when the epoch is exhausted, a new producer id with epoch 0); an ongoing transaction is
     * aborted with a bumped epoch (which fences its producer) and the caller is told CONCURRENT_TRANSACTIONS, so it
     * retries once the abort is complete. {@code expectedProducerId}/{@code expectedEpoch} (-1 when absent) are the
     * id and epoch a KIP-360 client passes to bump its own epoch.
     *
     * @param freshProducerId a newly allocated producer id, or -1: when one is needed and none is given, the decision
     *                        says {@code needsProducerId}
     */
    public static Decision initProducerId(TransactionMetadata current, String transactionalId, int timeoutMs,
                                          long expectedProducerId, short expectedEpoch, long freshProducerId, long nowMs) {
        return initProducerId(current, transactionalId, timeoutMs, expectedProducerId, expectedEpoch, freshProducerId,
                false, nowMs);
    }

    /** @param serverTransactionsV2 transaction.version is 2: the fencing abort of an open transaction bumps twice */
    public static Decision initProducerId(TransactionMetadata current, String transactionalId, int timeoutMs,
                                          long expectedProducerId, short expectedEpoch, long freshProducerId,
                                          boolean serverTransactionsV2, long nowMs) {
        if (current == null) {
            if (freshProducerId < 0) {
                return Decision.NEEDS_PRODUCER_ID;
            }
            current = new TransactionMetadata(transactionalId, freshProducerId, NO_PRODUCER_ID, NO_EPOCH, NO_EPOCH, timeoutMs,
                    TransactionState.EMPTY, new TreeSet<>(), -1L, nowMs);
        }
        boolean expected = expectedProducerId != NO_PRODUCER_ID;
        if (expected && !isValidProducerId(current, expectedProducerId, expectedEpoch)) {
            return Decision.error(Errors.PRODUCER_FENCED);
        }
        switch (current.state()) {
            case PREPARE_COMMIT, PREPARE_ABORT:
                return Decision.error(Errors.CONCURRENT_TRANSACTIONS);
            case EMPTY, COMPLETE_COMMIT, COMPLETE_ABORT: {
                if (current.isEpochExhausted() && (!expected || expectedEpoch == current.producerEpoch())) {
                    if (freshProducerId < 0) {
                        return Decision.NEEDS_PRODUCER_ID;
                    }
                    // A new producer id with epoch 0; remember the old one so a retry of this request is recognised.
                    TransactionMetadata rotated = new TransactionMetadata(transactionalId, freshProducerId, current.producerId(),
                            (short) 0, expected ? current.producerEpoch() : NO_EPOCH, timeoutMs, TransactionState.EMPTY,
                            new TreeSet<>(), -1L, nowMs);
                    return Decision.write(rotated);
                }
                short bumped = (short) (current.producerEpoch() + 1);
                short epoch;
                short lastEpoch;
                if (!expected) {
                    epoch = bumped;
                    lastEpoch = NO_EPOCH;
                } else if (current.producerEpoch() == NO_EPOCH || expectedEpoch == current.producerEpoch()) {
                    epoch = bumped;
                    lastEpoch = current.producerEpoch();
                } else if (expectedEpoch == current.lastProducerEpoch()) {
                    // a retry of a bump whose answer the producer never got
                    epoch = current.producerEpoch();
                    lastEpoch = current.lastProducerEpoch();
                } else {
                    return Decision.error(Errors.PRODUCER_FENCED);
                }
                return Decision.write(current.withTimeout(timeoutMs)
                        .with(TransactionState.EMPTY, epoch, lastEpoch, Set.of(), -1L, nowMs));
            }
            case ONGOING: {
                // Abort the open transaction with a bumped epoch (fencing the old producer) and let the caller retry:
                // its retry bumps the epoch once more (or rotates the id if that exhausted the epochs).
                TransactionMetadata fenced = fencingAbort(current, serverTransactionsV2, nowMs);
                return new Decision(Errors.CONCURRENT_TRANSACTIONS, fenced, true, false);
            }
            default:
                return Decision.error(Errors.CONCURRENT_TRANSACTIONS);
        }
    }

    private static boolean isValidProducerId(TransactionMetadata current, long producerId, short epoch) {
        // As Kafka: metadata just created (epoch -1), the current id (its epoch is checked by the bump), or the id
        // before a rotation when the producer's epoch was the exhausted one (a retried rotation).
        return current.producerEpoch() == NO_EPOCH
                || producerId == current.producerId()
                || (producerId == current.lastProducerId() && TransactionMetadata.isEpochExhausted(epoch));
    }

    private static short fencedEpoch(TransactionMetadata current) {
        return current.producerEpoch() == Short.MAX_VALUE ? Short.MAX_VALUE : (short) (current.producerEpoch() + 1);
    }

    /**
     * The abort the coordinator decides for an open transaction (its timeout, or a new producer's InitProducerId):
     * the epoch is bumped so the old producer is fenced. With transaction.version 2 the abort then bumps it once more
     * like every V2 end (Kafka: the fence, then prepareAbortOrCommit with the server's transaction version), and the
     * transaction counts as a V2 one from then on.
     */
    private static TransactionMetadata fencingAbort(TransactionMetadata current, boolean serverTransactionsV2, long nowMs) {
        short fenced = fencedEpoch(current);
        if (!serverTransactionsV2) {
            return current.with(TransactionState.PREPARE_ABORT, fenced, NO_EPOCH, current.partitions(),
                    current.startTimestampMs(), nowMs);
        }
        short bumped = fenced == Short.MAX_VALUE ? Short.MAX_VALUE : (short) (fenced + 1);
        return current.with(TransactionState.PREPARE_ABORT, bumped, fenced, current.partitions(), current.startTimestampMs(),
                nowMs).withClientTransactionVersion(TransactionMetadata.TV_2);
    }

    // ------------------------------------------------------------------ AddPartitionsToTxn, AddOffsetsToTxn

    /** Adds partitions to the producer's transaction, beginning it if none is open. */
    public static Decision addPartitions(TransactionMetadata current, long producerId, short producerEpoch,
                                         Collection<TxnPartition> partitions, long nowMs) {
        return addPartitions(current, producerId, producerEpoch, partitions, false, nowMs);
    }

    /**
     * Adds partitions; {@code transactionsV2} when the add comes from a transactions V2 client (a partition leader adding
     * the partition of a transactional produce, or a TxnOffsetCommit v5 adding the group's offsets partition), which is
     * then recorded so its EndTxn bumps the epoch.
     */
    public static Decision addPartitions(TransactionMetadata current, long producerId, short producerEpoch,
                                         Collection<TxnPartition> partitions, boolean transactionsV2, long nowMs) {
        if (transactionsV2 && current != null && current.state().isPrepare() && current.nextProducerId() == producerId
                && producerEpoch == 0) {
            // the producer already got the id this transaction's id rotates to; the markers are still going out
            return Decision.error(Errors.CONCURRENT_TRANSACTIONS);
        }
        Errors owner = checkOwner(current, producerId, producerEpoch);
        if (owner != Errors.NONE) {
            return Decision.error(owner);
        }
        TransactionState state = current.state();
        if (state.isPrepare()) {
            return Decision.error(Errors.CONCURRENT_TRANSACTIONS);
        }
        short version = transactionsV2 ? TransactionMetadata.TV_2 : 0;
        if (state == TransactionState.ONGOING && current.partitions().containsAll(partitions)
                && current.clientTransactionVersion() == version) {
            return Decision.NOTHING;
        }
        if (state != TransactionState.ONGOING && !state.isIdle()) {
            return Decision.error(Errors.CONCURRENT_TRANSACTIONS);
        }
        Set<TxnPartition> all = new TreeSet<>(state == TransactionState.ONGOING ? current.partitions() : Set.of());
        all.addAll(partitions);
        long start = state == TransactionState.ONGOING ? current.startTimestampMs() : nowMs;
        return Decision.write(current.with(TransactionState.ONGOING, current.producerEpoch(), current.lastProducerEpoch(),
                all, start, nowMs).withClientTransactionVersion(version));
    }

    /**
     * The broker-side check of AddPartitionsToTxn v4+ with VerifyOnly: NONE for partitions in the producer's open
     * transaction, INVALID_TXN_STATE for the others (or the producer's error for all).
     */
    public static Errors verify(TransactionMetadata current, long producerId, short producerEpoch, TxnPartition partition) {
        Errors owner = checkOwner(current, producerId, producerEpoch);
        if (owner != Errors.NONE) {
            return owner;
        }
        if (current.state().isPrepare()) {
            return Errors.CONCURRENT_TRANSACTIONS; // the previous transaction's markers are going out (as Kafka)
        }
        return current.state() == TransactionState.ONGOING && current.partitions().contains(partition)
                ? Errors.NONE : Errors.INVALID_TXN_STATE;
    }

    private static Errors checkOwner(TransactionMetadata current, long producerId, short producerEpoch) {
        if (current == null || current.producerId() != producerId) {
            return Errors.INVALID_PRODUCER_ID_MAPPING;
        }
        if (current.producerEpoch() != producerEpoch) {
            return Errors.PRODUCER_FENCED;
        }
        return Errors.NONE;
    }

    // ------------------------------------------------------------------ EndTxn

    /**
     * Ends the open transaction: PrepareCommit or PrepareAbort, whose markers the caller then writes. Retries of an
     * end that already happened are answered NONE (complete) or CONCURRENT_TRANSACTIONS (markers still going out).
     *
     * @param fromClient false for the coordinator's own aborts (timeouts, fencing), which carry a bumped epoch
     */
    public static Decision endTransaction(TransactionMetadata current, long producerId, short producerEpoch, boolean commit,
                                          boolean fromClient, long nowMs) {
        return endTransaction(current, producerId, producerEpoch, commit, fromClient, false, -1L, nowMs);
    }

    /**
     * EndTxn, also for transactions V2 (EndTxn v5, KIP-890): there every end bumps the epoch: PrepareCommit/
     * PrepareAbort carry epoch + 1, the markers are written with it and the client gets it back to use for its next
     * transaction. A retry is recognised by the epoch before the bump. When the bump uses up the epochs, the id moves
     * to a fresh producer id with epoch 0 once the markers are written ({@code freshProducerId}; when one is needed and
     * none is given, the decision says {@code needsProducerId}). A V2 client may also abort a transaction the
     * coordinator never saw a partition of (its first produce did not reach a leader): an abort with no markers.
     */
    public static Decision endTransaction(TransactionMetadata current, long producerId, short producerEpoch, boolean commit,
                                          boolean fromClient, boolean transactionsV2, long freshProducerId, long nowMs) {
        if (fromClient && transactionsV2) {
            return endTransactionV2(current, producerId, producerEpoch, commit, freshProducerId, nowMs);
        }
        if (current == null || current.producerId() != producerId) {
            return Decision.error(Errors.INVALID_PRODUCER_ID_MAPPING);
        }
        if ((fromClient && producerEpoch != current.producerEpoch()) || producerEpoch < current.producerEpoch()) {
            return Decision.error(Errors.PRODUCER_FENCED);
        }
        return switch (current.state()) {
            case ONGOING -> Decision.write(current.with(commit ? TransactionState.PREPARE_COMMIT : TransactionState.PREPARE_ABORT,
                    producerEpoch, fromClient ? current.lastProducerEpoch() : NO_EPOCH, current.partitions(),
                    current.startTimestampMs(), nowMs));
            case COMPLETE_COMMIT -> Decision.error(commit ? Errors.NONE : Errors.INVALID_TXN_STATE);
            case COMPLETE_ABORT -> Decision.error(commit ? Errors.INVALID_TXN_STATE : Errors.NONE);
            case PREPARE_COMMIT -> Decision.error(commit ? Errors.CONCURRENT_TRANSACTIONS : Errors.INVALID_TXN_STATE);
            case PREPARE_ABORT -> Decision.error(commit ? Errors.INVALID_TXN_STATE : Errors.CONCURRENT_TRANSACTIONS);
            default -> Decision.error(Errors.INVALID_TXN_STATE);
        };
    }

    /**
     * Every partition has its marker: PrepareCommit becomes CompleteCommit (PrepareAbort, CompleteAbort) and the
     * partitions are forgotten. Nothing happens when the transaction moved on meanwhile.
     */
    public static Decision completeTransaction(TransactionMetadata current, long producerId, short producerEpoch,
                                               boolean commit, long nowMs) {
        TransactionState expected = commit ? TransactionState.PREPARE_COMMIT : TransactionState.PREPARE_ABORT;
        if (current == null || current.state() != expected || current.producerId() != producerId
                || current.producerEpoch() != producerEpoch) {
            return Decision.NOTHING;
        }
        TransactionMetadata done = current.with(commit ? TransactionState.COMPLETE_COMMIT : TransactionState.COMPLETE_ABORT,
                current.producerEpoch(), current.lastProducerEpoch(), Set.of(), current.startTimestampMs(), nowMs);
        if (current.nextProducerId() != NO_PRODUCER_ID) {
            // transactions V2 used up the epochs: the id moves to the producer id the client already got, epoch 0
            done = new TransactionMetadata(done.transactionalId(), current.nextProducerId(), current.producerId(), (short) 0,
                    NO_EPOCH, done.timeoutMs(), done.state(), done.partitions(), done.startTimestampMs(),
                    done.lastUpdateTimestampMs(), done.clientTransactionVersion(), NO_PRODUCER_ID);
        }
        return Decision.write(done);
    }

    private static Decision endTransactionV2(TransactionMetadata current, long producerId, short producerEpoch, boolean commit,
                                             long freshProducerId, long nowMs) {
        if (current == null) {
            return Decision.error(Errors.INVALID_PRODUCER_ID_MAPPING);
        }
        boolean v2 = current.isTransactionsV2();
        // a retry of an end whose answer (the bumped epoch) the client never got
        // (the epoch before the bump is one below the current one; not remembered, so it survives a coordinator move)
        boolean retryOfBump = v2 && current.producerId() == producerId && current.producerEpoch() == (short) (producerEpoch + 1);
        // a retry of an end that used up the epochs, after the id moved to a new producer id
        boolean retryOfRotation = v2 && current.lastProducerId() == producerId && current.producerEpoch() == 0
                && TransactionMetadata.isEpochExhausted(producerEpoch);
        if (current.producerId() != producerId && !retryOfRotation) {
            return Decision.error(Errors.INVALID_PRODUCER_ID_MAPPING);
        }
        TransactionState state = current.state();
        boolean validEpoch = switch (state) {
            case ONGOING, EMPTY -> producerEpoch == current.producerEpoch();
            case PREPARE_COMMIT, PREPARE_ABORT -> retryOfBump;
            case COMPLETE_COMMIT, COMPLETE_ABORT -> retryOfBump || retryOfRotation || producerEpoch == current.producerEpoch();
            default -> false;
        };
        if (!validEpoch) {
            return Decision.error(Errors.PRODUCER_FENCED);
        }
        boolean retry = retryOfBump || retryOfRotation;
        return switch (state) {
            case ONGOING -> prepareV2(current, producerEpoch, commit, current.partitions(), current.startTimestampMs(),
                    freshProducerId, nowMs);
            case PREPARE_COMMIT -> Decision.error(commit ? Errors.CONCURRENT_TRANSACTIONS : Errors.INVALID_TXN_STATE);
            case PREPARE_ABORT -> Decision.error(commit ? Errors.INVALID_TXN_STATE : Errors.CONCURRENT_TRANSACTIONS);
            case COMPLETE_COMMIT, COMPLETE_ABORT, EMPTY -> {
                if (retry) {
                    boolean committed = state == TransactionState.COMPLETE_COMMIT;
                    yield Decision.error(state != TransactionState.EMPTY && committed == commit ? Errors.NONE
                            : Errors.INVALID_TXN_STATE);
                }
                // a new transaction the coordinator has no partition of: only an abort makes sense
                yield commit ? Decision.error(Errors.INVALID_TXN_STATE)
                        : prepareV2(current, producerEpoch, false, Set.of(), nowMs, freshProducerId, nowMs);
            }
            default -> Decision.error(Errors.INVALID_TXN_STATE);
        };
    }

    private static Decision prepareV2(TransactionMetadata current, short producerEpoch, boolean commit,
                                      Set<TxnPartition> partitions, long startMs, long freshProducerId, long nowMs) {
        long next = NO_PRODUCER_ID;
        if (TransactionMetadata.isEpochExhausted(producerEpoch)) {
            if (freshProducerId < 0) {
                return Decision.NEEDS_PRODUCER_ID;
            }
            next = freshProducerId;
        }
        TransactionMetadata prepared = current.with(commit ? TransactionState.PREPARE_COMMIT : TransactionState.PREPARE_ABORT,
                (short) (producerEpoch + 1), producerEpoch, partitions, startMs, nowMs)
                .withClientTransactionVersion(TransactionMetadata.TV_2).withNextProducerId(next);
        return Decision.write(prepared);
    }

    // ------------------------------------------------------------------ timers

    /**
     * A transaction open longer than its timeout is aborted by the coordinator with a bumped epoch, so its producer
     * is fenced (its next request gets PRODUCER_FENCED, as in Kafka).
     */
    public static Decision abortIfTimedOut(TransactionMetadata current, long nowMs) {
        return abortIfTimedOut(current, false, nowMs);
    }

    /** As {@link #abortIfTimedOut(TransactionMetadata, long)}; see {@link #fencingAbort} for {@code serverTransactionsV2}. */
    public static Decision abortIfTimedOut(TransactionMetadata current, boolean serverTransactionsV2, long nowMs) {
        if (current == null || !current.hasExpired(nowMs)) {
            return Decision.NOTHING;
        }
        return Decision.write(fencingAbort(current, serverTransactionsV2, nowMs));
    }

    /** Whether an idle transactional id has been unused for {@code expirationMs} and may be forgotten (a tombstone). */
    public static boolean hasExpiredId(TransactionMetadata current, long nowMs, long expirationMs) {
        return current != null && current.state().isIdle() && current.lastUpdateTimestampMs() + expirationMs <= nowMs;
    }
}
