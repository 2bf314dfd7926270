package dev.runnel.groupcoord.txn;

import dev.runnel.groupcoord.CoordinatorLog.CoordinatorLogException;
import dev.runnel.groupcoord.Scheduler;
import dev.runnel.groupcoord.Time;
import dev.runnel.groupcoord.txn.TransactionStateMachine.Decision;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.DescribeTransactionsResponseData;
import dev.runnel.wire.message.ListTransactionsResponseData;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transaction coordinator of a broker: per {@code __transaction_state} partition the transactional ids it owns,
 * changed only through {@link TransactionStateMachine} decisions that are written to the partition before they are
 * installed and answered. After a PrepareCommit/PrepareAbort is durable the markers go out through
 * {@link TxnMarkerWriter}; once every partition has its marker, CompleteCommit/CompleteAbort is written. Loading a
 * partition replays it and finishes what a crash interrupted: prepared transactions get their markers again,
 * ongoing ones past their timeout are aborted.
 *
 * <p>Operations on one partition are serialised by that partition's lock; marker writes and producer-id allocation
 * happen outside it. Time comes from {@link Time}, the periodic checks from {@link Scheduler}: no threads, no clock.
 */
public final class TransactionCoordinator {
    private static final Logger log = LoggerFactory.getLogger(TransactionCoordinator.class);

    /** The answer to InitProducerId. */
    public record InitResult(Errors error, long producerId, short producerEpoch) {
        static InitResult error(Errors e) {
            return new InitResult(e, -1L, (short) -1);
        }
    }

    public enum Status { NOT_LOADED, LOADING, ACTIVE }

    private final TransactionCoordinatorConfig config;
    private final Time time;
    private final Scheduler scheduler;
    private final TransactionLog txnLog;
    private final ProducerIdSource producerIds;
    private final TxnMarkerWriter markers;
    private final Shard[] shards;
    private volatile boolean running;
    private volatile Scheduler.Cancellable abortTask;
    private volatile Scheduler.Cancellable expireTask;

    public TransactionCoordinator(TransactionCoordinatorConfig config, Time time, Scheduler scheduler, TransactionLog txnLog,
                                  ProducerIdSource producerIds, TxnMarkerWriter markers) {
        this.config = config;
        this.time = time;
        this.scheduler = scheduler;
        this.txnLog = txnLog;
        this.producerIds = producerIds;
        this.markers = markers;
        this.shards = new Shard[config.partitions()];
        for (int i = 0; i < shards.length; i++) {
            shards[i] = new Shard(i);
        }
    }

    private boolean serverTransactionsV2() {
        return config.transactionVersion() >= TransactionMetadata.TV_2;
    }

    public TransactionCoordinatorConfig config() {
        return config;
    }

    public int partitionFor(String transactionalId) {
        return TransactionStateTopic.partitionFor(transactionalId, shards.length);
    }

    public Status status(int partition) {
        return shards[partition].status;
    }

    /** Starts the periodic checks: aborting timed-out transactions and forgetting expired transactional ids. */
    public void start() {
        running = true;
        scheduleAbortCheck();
        scheduleExpiry();
    }

    /** Stops the periodic checks; marker retries stop with their partitions' unloading. */
    public void shutdown() {
        running = false;
        Scheduler.Cancellable a = abortTask;
        Scheduler.Cancellable e = expireTask;
        if (a != null) {
            a.cancel();
        }
        if (e != null) {
            e.cancel();
        }
        for (Shard s : shards) {
            synchronized (s) {
                s.unload();
            }
        }
    }

    private void scheduleAbortCheck() {
        if (running) {
            abortTask = scheduler.schedule(config.abortTimedOutIntervalMs(), () -> {
                abortTimedOutTransactions();
                scheduleAbortCheck();
            });
        }
    }

    private void scheduleExpiry() {
        if (running) {
            expireTask = scheduler.schedule(config.removeExpiredIntervalMs(), () -> {
                expireTransactionalIds();
                scheduleExpiry();
            });
        }
    }

    // =================================================================== loading

    /**
     * Takes ownership of a partition: replays its records (the last value per id wins, a tombstone removes it),
     * sends the markers of transactions found prepared and aborts ongoing ones past their timeout.
     *
     * @param coordinatorEpoch the partition's leader epoch, written into markers so brokers can tell coordinators apart
     */
    public void load(int partition, int coordinatorEpoch) {
        Shard shard = shards[partition];
        List<TransactionMetadata> prepared = new ArrayList<>();
        synchronized (shard) {
            shard.unload();
            shard.status = Status.LOADING;
            Map<String, TransactionMetadata> loaded = new HashMap<>();
            int[] count = new int[1];
            try {
                txnLog.read(partition, (offset, key, value) -> {
                    count[0]++;
                    if (key == null) {
                        return;
                    }
                    try {
                        String id = TransactionRecords.readKey(key);
                        TransactionMetadata m = TransactionRecords.readValue(id, value);
                        if (m == null) {
                            loaded.remove(id);
                        } else {
                            loaded.put(id, m);
                        }
                    } catch (RuntimeException e) {
                        log.warn("Skipping undecodable record at {}-{} offset {}: {}", TransactionStateTopic.NAME, partition,
                                offset, e.toString());
                    }
                });
            } catch (RuntimeException e) {
                log.error("Loading {}-{} failed: {}", TransactionStateTopic.NAME, partition, e.toString(), e);
                shard.status = Status.NOT_LOADED;
                return;
            }
            shard.txns.putAll(loaded);
            shard.coordinatorEpoch = coordinatorEpoch;
            shard.generation++;
            shard.status = Status.ACTIVE;
            for (TransactionMetadata m : loaded.values()) {
                if (m.state().isPrepare()) {
                    prepared.add(m);
                }
            }
            if (count[0] > 0) {
                log.info("Loaded {}-{}: {} records, {} transactional ids, {} transactions to complete", TransactionStateTopic.NAME,
                        partition, count[0], loaded.size(), prepared.size());
            }
        }
        long generation = shard.generation;
        for (TransactionMetadata m : prepared) {
            sendMarkers(shard, generation, m);
        }
        abortTimedOut(shard);
    }

    public void loadAll() {
        for (int p = 0; p < shards.length; p++) {
            load(p, 0);
        }
    }

    /** Gives a partition up: its ids are forgotten here and its marker retries stop. */
    public void unload(int partition) {
        Shard shard = shards[partition];
        synchronized (shard) {
            shard.unload();
        }
    }

    // =================================================================== InitProducerId (22)

    public CompletableFuture<InitResult> initProducerId(String transactionalId, int timeoutMs, long expectedProducerId,
                                                        short expectedEpoch) {
        if (transactionalId == null || transactionalId.isEmpty()) {
            return CompletableFuture.completedFuture(InitResult.error(Errors.INVALID_REQUEST));
        }
        if (timeoutMs <= 0 || timeoutMs > config.maxTimeoutMs()) {
            return CompletableFuture.completedFuture(InitResult.error(Errors.INVALID_TRANSACTION_TIMEOUT));
        }
        return initProducerId(transactionalId, timeoutMs, expectedProducerId, expectedEpoch, -1L);
    }

    private CompletableFuture<InitResult> initProducerId(String transactionalId, int timeoutMs, long expectedProducerId,
                                                         short expectedEpoch, long freshProducerId) {
        Shard shard = shards[partitionFor(transactionalId)];
        return run(shard, transactionalId, current -> TransactionStateMachine.initProducerId(current, transactionalId,
                timeoutMs, expectedProducerId, expectedEpoch, freshProducerId, serverTransactionsV2(), time.milliseconds()))
                .thenCompose(outcome -> afterInit(shard, outcome, transactionalId, timeoutMs, expectedProducerId, expectedEpoch));
    }

    private CompletableFuture<InitResult> afterInit(Shard shard, Outcome outcome, String transactionalId, int timeoutMs,
                                                    long expectedProducerId, short expectedEpoch) {
        if (outcome.needsProducerId) {
            return producerIds.nextId().handle((id, failure) -> {
                if (failure != null) {
                    log.error("Cannot allocate a producer id for transactional id {}: {}", transactionalId, failure.toString());
                    return CompletableFuture.completedFuture(InitResult.error(Errors.COORDINATOR_NOT_AVAILABLE));
                }
                return initProducerId(transactionalId, timeoutMs, expectedProducerId, expectedEpoch, id);
            }).thenCompose(f -> f);
        }
        if (outcome.error != Errors.NONE) {
            return CompletableFuture.completedFuture(InitResult.error(outcome.error));
        }
        TransactionMetadata m = outcome.installed;
        log.debug("Initialized transactional id {} with producer id {} and epoch {} on {}-{}", transactionalId,
                m.producerId(), m.producerEpoch(), TransactionStateTopic.NAME, shard.partition);
        return CompletableFuture.completedFuture(new InitResult(Errors.NONE, m.producerId(), m.producerEpoch()));
    }

    // =================================================================== AddPartitionsToTxn (24), AddOffsetsToTxn (25)

    public CompletableFuture<Errors> addPartitions(String transactionalId, long producerId, short producerEpoch,
                                                   Collection<TxnPartition> partitions) {
        return addPartitions(transactionalId, producerId, producerEpoch, partitions, false);
    }

    /**
     * Adds partitions to the transaction; {@code transactionsV2} when a transactions V2 client's partition is added for
     * it (by the partition's leader on a transactional produce, or by TxnOffsetCommit v5 for the group's offsets).
     */
    public CompletableFuture<Errors> addPartitions(String transactionalId, long producerId, short producerEpoch,
                                                   Collection<TxnPartition> partitions, boolean transactionsV2) {
        if (transactionalId == null || transactionalId.isEmpty()) {
            return CompletableFuture.completedFuture(Errors.INVALID_REQUEST);
        }
        Set<TxnPartition> set = new TreeSet<>(partitions);
        return run(shards[partitionFor(transactionalId)], transactionalId, current ->
                TransactionStateMachine.addPartitions(current, producerId, producerEpoch, set, transactionsV2,
                        time.milliseconds()))
                .thenApply(Outcome::error);
    }

    /** AddPartitionsToTxn v4+ VerifyOnly: one error per partition, nothing written. */
    public Map<TxnPartition, Errors> verifyPartitions(String transactionalId, long producerId, short producerEpoch,
                                                      Collection<TxnPartition> partitions) {
        Map<TxnPartition, Errors> out = new LinkedHashMap<>();
        Shard shard = shards[partitionFor(transactionalId)];
        synchronized (shard) {
            Errors status = shard.statusError();
            TransactionMetadata current = shard.txns.get(transactionalId);
            for (TxnPartition p : partitions) {
                out.put(p, status != Errors.NONE ? status : TransactionStateMachine.verify(current, producerId, producerEpoch, p));
            }
        }
        return out;
    }

    // =================================================================== EndTxn (26)

    public CompletableFuture<Errors> endTransaction(String transactionalId, long producerId, short producerEpoch, boolean commit) {
        return endTransaction(transactionalId, producerId, producerEpoch, commit, false).thenApply(EndResult::error);
    }

    /** The answer to EndTxn: with transactions V2 the producer id and (bumped) epoch the client goes on with. */
    public record EndResult(Errors error, long producerId, short producerEpoch) {
        static EndResult error(Errors e) {
            return new EndResult(e, -1L, (short) -1);
        }
    }

    /** EndTxn; {@code transactionsV2} for EndTxn v5+ (KIP-890: every end bumps the epoch). */
    public CompletableFuture<EndResult> endTransaction(String transactionalId, long producerId, short producerEpoch,
                                                       boolean commit, boolean transactionsV2) {
        if (transactionalId == null || transactionalId.isEmpty()) {
            return CompletableFuture.completedFuture(EndResult.error(Errors.INVALID_REQUEST));
        }
        return endTransaction(transactionalId, producerId, producerEpoch, commit, transactionsV2, -1L);
    }

    private CompletableFuture<EndResult> endTransaction(String transactionalId, long producerId, short producerEpoch,
                                                        boolean commit, boolean transactionsV2, long freshProducerId) {
        Shard shard = shards[partitionFor(transactionalId)];
        return run(shard, transactionalId, current -> TransactionStateMachine.endTransaction(current, producerId, producerEpoch,
                commit, true, transactionsV2, freshProducerId, time.milliseconds()))
                .thenCompose(outcome -> {
                    if (outcome.needsProducerId) {
                        return producerIds.nextId().handle((id, failure) -> {
                            if (failure != null) {
                                log.error("Cannot allocate a producer id for transactional id {}: {}", transactionalId,
                                        failure.toString());
                                return CompletableFuture.completedFuture(EndResult.error(Errors.COORDINATOR_NOT_AVAILABLE));
                            }
                            return endTransaction(transactionalId, producerId, producerEpoch, commit, transactionsV2, id);
                        }).thenCompose(f -> f);
                    }
                    if (outcome.error != Errors.NONE) {
                        return CompletableFuture.completedFuture(EndResult.error(outcome.error));
                    }
                    TransactionMetadata m = outcome.installed != null ? outcome.installed : metadata(transactionalId);
                    if (m == null) {
                        return CompletableFuture.completedFuture(new EndResult(Errors.NONE, producerId, producerEpoch));
                    }
                    return CompletableFuture.completedFuture(m.nextProducerId() != TransactionMetadata.NO_PRODUCER_ID
                            ? new EndResult(Errors.NONE, m.nextProducerId(), (short) 0)
                            : new EndResult(Errors.NONE, m.producerId(), m.producerEpoch()));
                });
    }

    // =================================================================== DescribeTransactions (65), ListTransactions (66)

    public DescribeTransactionsResponseData.TransactionState describe(String transactionalId) {
        DescribeTransactionsResponseData.TransactionState out = new DescribeTransactionsResponseData.TransactionState()
                .setTransactionalId(transactionalId).setTransactionState("").setProducerId(-1L).setProducerEpoch((short) -1)
                .setTransactionStartTimeMs(-1L);
        if (transactionalId == null || transactionalId.isEmpty()) {
            return out.setErrorCode(Errors.INVALID_REQUEST.code());
        }
        Shard shard = shards[partitionFor(transactionalId)];
        synchronized (shard) {
            Errors status = shard.statusError();
            if (status != Errors.NONE) {
                return out.setErrorCode(status.code());
            }
            TransactionMetadata m = shard.txns.get(transactionalId);
            if (m == null) {
                return out.setErrorCode(Errors.TRANSACTIONAL_ID_NOT_FOUND.code());
            }
            Map<String, DescribeTransactionsResponseData.TopicData> topics = new LinkedHashMap<>();
            for (TxnPartition p : m.partitions()) {
                topics.computeIfAbsent(p.topic(), t -> new DescribeTransactionsResponseData.TopicData().setTopic(t))
                        .partitions.add(p.partition());
            }
            out.topics.addAll(topics.values());
            return out.setErrorCode(Errors.NONE.code()).setProducerId(m.producerId()).setProducerEpoch(m.producerEpoch())
                    .setTransactionState(m.state().kafkaName).setTransactionTimeoutMs(m.timeoutMs())
                    .setTransactionStartTimeMs(m.startTimestampMs());
        }
    }

    /**
     * The transactions of every partition loaded here, filtered as ListTransactions asks: by state names, producer
     * ids, and (v1+) a minimum running time in ms (-1: any). Unknown state names are reported back.
     */
    public ListTransactionsResponseData list(Collection<String> stateFilters, Collection<Long> producerIdFilters, long minDurationMs) {
        ListTransactionsResponseData resp = new ListTransactionsResponseData().setErrorCode(Errors.NONE.code());
        Set<TransactionState> states = new java.util.HashSet<>();
        for (String s : stateFilters) {
            TransactionState st = TransactionState.forName(s);
            if (st == null) {
                resp.unknownStateFilters.add(s);
            } else {
                states.add(st);
            }
        }
        long now = time.milliseconds();
        for (Shard shard : shards) {
            synchronized (shard) {
                if (shard.status != Status.ACTIVE) {
                    continue;
                }
                for (TransactionMetadata m : shard.txns.values()) {
                    if (m.state() == TransactionState.DEAD
                            || (!stateFilters.isEmpty() && !states.contains(m.state()))
                            || (!producerIdFilters.isEmpty() && !producerIdFilters.contains(m.producerId()))
                            || (minDurationMs >= 0 && (m.state() != TransactionState.ONGOING && !m.state().isPrepare()
                                || m.startTimestampMs() < 0 || now - m.startTimestampMs() < minDurationMs))) {
                        continue;
                    }
                    resp.transactionStates.add(new ListTransactionsResponseData.TransactionState()
                            .setTransactionalId(m.transactionalId()).setProducerId(m.producerId())
                            .setTransactionState(m.state().kafkaName));
                }
            }
        }
        return resp;
    }

    /** The metadata of a transactional id if its partition is loaded here (tests, admin). */
    public TransactionMetadata metadata(String transactionalId) {
        Shard shard = shards[partitionFor(transactionalId)];
        synchronized (shard) {
            return shard.txns.get(transactionalId);
        }
    }

    // =================================================================== timers

    /** Aborts, with a bumped epoch, every transaction open longer than its timeout (Kafka's periodic check). */
    public void abortTimedOutTransactions() {
        for (Shard shard : shards) {
            abortTimedOut(shard);
        }
    }

    private void abortTimedOut(Shard shard) {
        List<String> expired = new ArrayList<>();
        synchronized (shard) {
            if (shard.status != Status.ACTIVE) {
                return;
            }
            long now = time.milliseconds();
            for (TransactionMetadata m : shard.txns.values()) {
                if (m.hasExpired(now)) {
                    expired.add(m.transactionalId());
                }
            }
        }
        for (String id : expired) {
            run(shard, id, current -> TransactionStateMachine.abortIfTimedOut(current, serverTransactionsV2(), time.milliseconds())).thenAccept(o -> {
                if (o.installed != null) {
                    log.info("Aborting the transaction of transactional id {} (producer id {}): open longer than its timeout of"
                            + " {} ms; its producer is fenced (epoch now {})", id, o.installed.producerId(),
                            o.installed.timeoutMs(), o.installed.producerEpoch());
                }
            });
        }
    }

    /** Forgets idle transactional ids unused for transactional.id.expiration.ms (a tombstone each). */
    public void expireTransactionalIds() {
        for (Shard shard : shards) {
            synchronized (shard) {
                if (shard.status != Status.ACTIVE) {
                    continue;
                }
                long now = time.milliseconds();
                long generation = shard.generation;
                for (TransactionMetadata m : new ArrayList<>(shard.txns.values())) {
                    String id = m.transactionalId();
                    if (shard.pending.contains(id)
                            || !TransactionStateMachine.hasExpiredId(m, now, config.transactionalIdExpirationMs())) {
                        continue;
                    }
                    CompletableFuture<Long> written;
                    try {
                        written = txnLog.append(shard.partition, now, TransactionRecords.key(id), null);
                    } catch (CoordinatorLogException e) {
                        log.warn("Could not expire transactional id {}: {}", id, e.getMessage());
                        return;
                    }
                    shard.pending.add(id);
                    written.whenComplete((offset, failure) -> {
                        synchronized (shard) {
                            if (shard.generation != generation) {
                                return;
                            }
                            shard.pending.remove(id);
                            if (failure == null && shard.txns.get(id) == m) {
                                shard.txns.remove(id);
                                log.info("Transactional id {} expired (unused for {} ms)", id, now - m.lastUpdateTimestampMs());
                            }
                        }
                    });
                }
            }
        }
    }

    // =================================================================== runtime

    private record Outcome(Errors error, TransactionMetadata installed, boolean needsProducerId) {
    }

    /**
     * Runs a decision against the id's current metadata under the shard's lock and writes its next value. While the
     * write is not durable the id has a pending transition (other requests for it get CONCURRENT_TRANSACTIONS, as in
     * Kafka); once it is, the value is installed, the answer given and (outside the lock) the markers it calls for
     * sent. A write that fails changes nothing in memory.
     */
    private CompletableFuture<Outcome> run(Shard shard, String transactionalId, Function<TransactionMetadata, Decision> operation) {
        Decision d;
        CompletableFuture<Long> written;
        long generation;
        synchronized (shard) {
            Errors status = shard.statusError();
            if (status != Errors.NONE) {
                return CompletableFuture.completedFuture(new Outcome(status, null, false));
            }
            if (shard.pending.contains(transactionalId)) {
                return CompletableFuture.completedFuture(new Outcome(Errors.CONCURRENT_TRANSACTIONS, null, false));
            }
            try {
                d = operation.apply(shard.txns.get(transactionalId));
            } catch (RuntimeException e) {
                log.error("Operation on transactional id {} failed unexpectedly", transactionalId, e);
                return CompletableFuture.completedFuture(new Outcome(Errors.UNKNOWN_SERVER_ERROR, null, false));
            }
            if (d.needsProducerId()) {
                return CompletableFuture.completedFuture(new Outcome(Errors.NONE, null, true));
            }
            if (d.next() == null) {
                return CompletableFuture.completedFuture(new Outcome(d.error(), null, false));
            }
            try {
                written = txnLog.append(shard.partition, time.milliseconds(), TransactionRecords.key(transactionalId),
                        TransactionRecords.value(d.next()));
            } catch (CoordinatorLogException e) {
                return CompletableFuture.completedFuture(new Outcome(writeFailed(shard, transactionalId, e), null, false));
            }
            shard.pending.add(transactionalId);
            generation = shard.generation;
        }
        return written.handle((offset, failure) -> {
            Outcome outcome;
            synchronized (shard) {
                if (shard.generation != generation) {
                    return new Outcome(Errors.NOT_COORDINATOR, null, false); // unloaded meanwhile: the new owner decides
                }
                shard.pending.remove(transactionalId);
                if (failure != null) {
                    Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
                            ? failure.getCause() : failure;
                    CoordinatorLogException e = cause instanceof CoordinatorLogException c ? c
                            : new CoordinatorLogException(Errors.UNKNOWN_SERVER_ERROR, cause.toString(), cause);
                    return new Outcome(writeFailed(shard, transactionalId, e), null, false);
                }
                shard.txns.put(transactionalId, d.next());
                outcome = new Outcome(d.error(), d.next(), false);
            }
            if (d.sendMarkers()) {
                sendMarkers(shard, generation, d.next());
            }
            return outcome;
        });
    }

    private static Errors writeFailed(Shard shard, String transactionalId, CoordinatorLogException e) {
        log.warn("Writing the state of transactional id {} to {}-{} failed: {}", transactionalId, TransactionStateTopic.NAME,
                shard.partition, e.getMessage());
        return appendError(e.error());
    }

    private static Errors appendError(Errors error) {
        return switch (error) {
            case NOT_LEADER_OR_FOLLOWER, KAFKA_STORAGE_ERROR -> Errors.NOT_COORDINATOR;
            case UNKNOWN_TOPIC_OR_PARTITION, NOT_ENOUGH_REPLICAS, NOT_ENOUGH_REPLICAS_AFTER_APPEND, REQUEST_TIMED_OUT ->
                    Errors.COORDINATOR_NOT_AVAILABLE;
            default -> Errors.UNKNOWN_SERVER_ERROR;
        };
    }

    private void sendMarkers(Shard shard, long generation, TransactionMetadata m) {
        boolean commit = m.state() == TransactionState.PREPARE_COMMIT;
        attemptMarkers(shard, generation, m.transactionalId(), m.producerId(), m.producerEpoch(), commit,
                new TreeSet<>(m.partitions()), 0);
    }

    private void attemptMarkers(Shard shard, long generation, String transactionalId, long producerId, short epoch,
                                boolean commit, Set<TxnPartition> pending, int attempt) {
        if (shard.generation != generation || shard.status != Status.ACTIVE) {
            return; // the partition moved: its new owner sends the markers
        }
        if (pending.isEmpty()) {
            complete(shard, generation, transactionalId, producerId, epoch, commit);
            return;
        }
        CompletableFuture<Map<TxnPartition, Errors>> f;
        try {
            f = markers.write(producerId, epoch, commit, shard.coordinatorEpoch, pending);
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        f.whenComplete((results, failure) -> {
            Set<TxnPartition> retry = new TreeSet<>();
            Map<TxnPartition, Errors> errors = new LinkedHashMap<>();
            for (TxnPartition p : pending) {
                Errors e = failure != null ? Errors.UNKNOWN_SERVER_ERROR : results.getOrDefault(p, Errors.UNKNOWN_SERVER_ERROR);
                if (e != Errors.NONE) {
                    retry.add(p);
                    errors.put(p, e);
                }
            }
            if (retry.isEmpty()) {
                complete(shard, generation, transactionalId, producerId, epoch, commit);
                return;
            }
            if (errors.containsValue(Errors.TRANSACTION_COORDINATOR_FENCED)) {
                // A partition has a marker from a newer coordinator of this producer: this one is stale (as Kafka, stop
                // here; the owner of the newer epoch completes the transaction).
                log.warn("{} markers for transactional id {} refused: coordinator epoch {} of {}-{} is fenced by a newer one",
                        commit ? "COMMIT" : "ABORT", transactionalId, shard.coordinatorEpoch, TransactionStateTopic.NAME,
                        shard.partition);
                return;
            }
            if (attempt % 50 == 0) {
                log.warn("{} markers for transactional id {} (producer id {}, epoch {}) not written yet, retrying: {}{}",
                        commit ? "COMMIT" : "ABORT", transactionalId, producerId, epoch, errors,
                        failure == null ? "" : " (" + failure + ")");
            }
            scheduler.schedule(config.markerRetryBackoffMs(), () ->
                    attemptMarkers(shard, generation, transactionalId, producerId, epoch, commit, retry, attempt + 1));
        });
    }

    private void complete(Shard shard, long generation, String transactionalId, long producerId, short epoch, boolean commit) {
        if (shard.generation != generation) {
            return;
        }
        run(shard, transactionalId, current ->
                TransactionStateMachine.completeTransaction(current, producerId, epoch, commit, time.milliseconds()))
                .thenAccept(o -> {
                    if (o.installed == null && o.error != Errors.NONE && shard.generation == generation) {
                        // Writing the completion failed (or another write was in flight): try again later.
                        log.debug("Could not complete the transaction of {} yet: {}; retrying", transactionalId, o.error);
                        scheduler.schedule(config.markerRetryBackoffMs(), () ->
                                complete(shard, generation, transactionalId, producerId, epoch, commit));
                    }
                });
    }

    private static final class Shard {
        final int partition;
        final Map<String, TransactionMetadata> txns = new HashMap<>();
        /** Ids whose next value is being written: their other requests wait (CONCURRENT_TRANSACTIONS). */
        final Set<String> pending = new java.util.HashSet<>();
        volatile Status status = Status.NOT_LOADED;
        volatile long generation;
        volatile int coordinatorEpoch;

        Shard(int partition) {
            this.partition = partition;
        }

        Errors statusError() {
            return switch (status) {
                case ACTIVE -> Errors.NONE;
                case LOADING -> Errors.COORDINATOR_LOAD_IN_PROGRESS;
                case NOT_LOADED -> Errors.NOT_COORDINATOR;
            };
        }

        void unload() {
            txns.clear();
            pending.clear();
            generation++;
            status = Status.NOT_LOADED;
        }
    }
}
