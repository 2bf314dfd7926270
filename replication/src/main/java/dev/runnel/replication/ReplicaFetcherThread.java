package dev.runnel.replication;

import dev.runnel.wire.ByteBufRecords;
import dev.runnel.wire.ByteBufWritable;
import dev.runnel.wire.Errors;
import dev.runnel.wire.Readable;
import dev.runnel.wire.Records;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.FetchRequestData;
import dev.runnel.wire.message.FetchResponseData;
import dev.runnel.wire.message.ListOffsetsRequestData;
import dev.runnel.wire.message.ListOffsetsResponseData;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches the partitions this node follows from one leader broker (one of {@code num.replica.fetchers} threads per
 * leader), Kafka's ReplicaFetcherThread/AbstractFetcherThread rules: a sessionless Fetch v12 as replica
 * {@code replicaId}, truncation on {@code DivergingEpoch}, ListOffsets on OFFSET_OUT_OF_RANGE, per-partition backoff
 * on errors.
 *
 * <p>Locking: {@link #lock} guards the partition map, and every call to a {@link FollowerPartition} is made on this
 * thread while holding it, after checking that the partition is still in the map. Network I/O happens without the
 * lock. So once {@link #removePartition} (which takes the lock) returns, this thread never touches that partition
 * again.
 */
final class ReplicaFetcherThread extends Thread {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaFetcherThread.class);

    /** Topic names, top-level ReplicaId, LastFetchedEpoch and DivergingEpoch. */
    static final short FETCH_VERSION = 12;
    /** Flexible, with CurrentLeaderEpoch (v4+) and ReplicaId. */
    static final short LIST_OFFSETS_VERSION = 7;
    static final long LATEST_TIMESTAMP = -1L;
    static final long EARLIEST_TIMESTAMP = -2L;

    record PartitionKey(String topic, int partition) {
        @Override
        public String toString() {
            return topic + "-" + partition;
        }
    }

    /** One followed partition; the mutable fields other than the volatile metrics are guarded by the thread's lock. */
    static final class PartitionState {
        final PartitionKey key;
        final FollowerPartition partition;
        long delayUntilNanos;
        boolean delayed;
        boolean announced;
        /** The last problem logged (an error name or a message), so that a repeated one is logged only at DEBUG. */
        String lastProblem;
        volatile long leaderHighWatermark = -1L;
        volatile long lag = -1L;

        PartitionState(PartitionKey key, FollowerPartition partition) {
            this.key = key;
            this.partition = partition;
        }
    }

    /** A partition as it went into a fetch request. */
    private record Requested(PartitionState state, long fetchOffset, int currentLeaderEpoch) {
    }

    private static final class LeaderError extends Exception {
        final Errors error;

        LeaderError(Errors error) {
            super(error.name(), null, false, false);
            this.error = error;
        }
    }

    private final int replicaId;
    private final int fetcherId;
    private final LeaderEndpoint leader;
    private final ReplicaFetcherConfig config;
    private final LongAdder fetchedBytes;
    private final LeaderConnection connection;
    private final long backoffNanos;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final LinkedHashMap<PartitionKey, PartitionState> partitions = new LinkedHashMap<>(); // lock
    private volatile boolean running = true;
    /** This thread only: whether the last attempt to reach the leader failed (logs one WARN per outage). */
    private boolean connectionFailing;

    ReplicaFetcherThread(String name, int replicaId, int fetcherId, LeaderEndpoint leader, ReplicaFetcherConfig config,
                         LongAdder fetchedBytes) {
        super(name);
        setDaemon(true);
        this.replicaId = replicaId;
        this.fetcherId = fetcherId;
        this.leader = leader;
        this.config = config;
        this.fetchedBytes = fetchedBytes;
        this.backoffNanos = TimeUnit.MILLISECONDS.toNanos(config.fetchBackoffMs());
        this.connection = new LeaderConnection(leader, ReplicaFetcherManager.clientId(replicaId),
                config.socketTimeoutMs(), config.socketReceiveBufferBytes());
    }

    LeaderEndpoint leader() {
        return leader;
    }

    int fetcherId() {
        return fetcherId;
    }

    // ------------------------------------------------------------------ called by the manager

    /**
     * Starts fetching {@code partition}. If the same object is already here, it is kept (its backoff is cleared: the
     * caller has news, e.g. a new leader epoch); another object for the same topic-partition replaces it.
     */
    PartitionState addPartition(PartitionKey key, FollowerPartition partition) {
        lock.lock();
        try {
            PartitionState s = partitions.get(key);
            if (s == null || s.partition != partition) {
                s = new PartitionState(key, partition);
                partitions.remove(key);
                partitions.put(key, s);
            } else {
                s.delayed = false;
            }
            changed.signalAll();
            return s;
        } finally {
            lock.unlock();
        }
    }

    /** Stops fetching the partition; once this returns this thread does not touch it any more. */
    PartitionState removePartition(PartitionKey key) {
        lock.lock();
        try {
            PartitionState s = partitions.remove(key);
            if (s != null) {
                LOG.info("{} stops following leader {} ({}:{})", key, leader.nodeId(), leader.host(), leader.port());
            }
            return s;
        } finally {
            lock.unlock();
        }
    }

    /** Removes every partition (quietly: they are moved elsewhere) and returns them. */
    List<PartitionState> removeAll() {
        lock.lock();
        try {
            List<PartitionState> all = new ArrayList<>(partitions.values());
            partitions.clear();
            return all;
        } finally {
            lock.unlock();
        }
    }

    int partitionCount() {
        lock.lock();
        try {
            return partitions.size();
        } finally {
            lock.unlock();
        }
    }

    /** Makes the thread end soon: a blocked connect or read fails at once, a wait is woken. Does not wait. */
    void initiateShutdown() {
        running = false;
        connection.close();
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ the fetch loop

    @Override
    public void run() {
        try {
            while (running) {
                try {
                    doWork();
                } catch (InterruptedException e) {
                    if (!running) {
                        break;
                    }
                    Thread.interrupted();
                } catch (Throwable t) {
                    if (!running) {
                        break;
                    }
                    LOG.error("Replica fetcher {} for leader {} failed unexpectedly; backing off {} ms",
                            getName(), leader.nodeId(), config.fetchBackoffMs(), t);
                    delayAll();
                }
            }
        } finally {
            connection.close();
        }
    }

    private void doWork() throws InterruptedException {
        List<Requested> requested = new ArrayList<>();
        FetchRequestData request;
        lock.lock();
        try {
            if (!running) {
                return;
            }
            long now = System.nanoTime();
            Map<String, FetchRequestData.FetchTopic> topics = new LinkedHashMap<>();
            for (PartitionState s : partitions.values()) {
                if (s.delayed) {
                    if (s.delayUntilNanos - now > 0) {
                        continue;
                    }
                    s.delayed = false;
                }
                FollowerPartition p = s.partition;
                try {
                    if (!s.announced) {
                        FollowerFetchLogic.truncateIfWithoutEpoch(p, s.key.toString(), leader.nodeId());
                    }
                    long fetchOffset = p.logEndOffset();
                    int currentLeaderEpoch = p.leaderEpoch();
                    int lastFetchedEpoch = p.lastFetchedEpoch();
                    long logStartOffset = p.logStartOffset();
                    if (!s.announced) {
                        s.announced = true;
                        LOG.info("{} starts following leader {} ({}:{}) from offset {} (leader epoch {}, last fetched epoch {})",
                                s.key, leader.nodeId(), leader.host(), leader.port(), fetchOffset, currentLeaderEpoch,
                                lastFetchedEpoch);
                    }
                    topics.computeIfAbsent(s.key.topic(), t -> new FetchRequestData.FetchTopic().setTopic(t))
                            .partitions.add(new FetchRequestData.FetchPartition()
                                    .setPartition(s.key.partition())
                                    .setCurrentLeaderEpoch(currentLeaderEpoch)
                                    .setFetchOffset(fetchOffset)
                                    .setLastFetchedEpoch(lastFetchedEpoch)
                                    .setLogStartOffset(logStartOffset)
                                    .setPartitionMaxBytes(config.fetchMaxBytes()));
                    requested.add(new Requested(s, fetchOffset, currentLeaderEpoch));
                } catch (IOException | RuntimeException e) {
                    problem(s, true, "could not read the local log's state: " + e, e);
                }
            }
            if (requested.isEmpty()) {
                if (partitions.isEmpty()) {
                    changed.await(); // woken by addPartition or shutdown
                } else {
                    // every partition is backing off (some may have just started to): wait for the first to be due
                    long now2 = System.nanoTime();
                    long wait = Long.MAX_VALUE;
                    for (PartitionState s : partitions.values()) {
                        wait = Math.min(wait, s.delayed ? s.delayUntilNanos - now2 : 0L);
                    }
                    if (wait > 0) {
                        changed.awaitNanos(Math.max(TimeUnit.MILLISECONDS.toNanos(1), wait));
                    }
                }
                return;
            }
            request = new FetchRequestData()
                    .setReplicaId(replicaId)
                    .setMaxWaitMs(config.fetchWaitMaxMs())
                    .setMinBytes(config.fetchMinBytes())
                    .setMaxBytes(config.fetchResponseMaxBytes())
                    .setIsolationLevel((byte) 0)
                    .setSessionId(0)
                    .setSessionEpoch(-1)
                    .setTopics(new ArrayList<>(topics.values()));
        } finally {
            lock.unlock();
        }

        FetchResponseData response;
        try {
            response = parse(connection.send(ApiKeys.FETCH, FETCH_VERSION, request), FetchResponseData::new, FETCH_VERSION);
        } catch (IOException e) {
            if (running) {
                onConnectionError(e);
            }
            return;
        }
        if (connectionFailing) {
            connectionFailing = false;
            LOG.info("Replica fetcher {} reached leader {} ({}:{}) again", getName(), leader.nodeId(), leader.host(),
                    leader.port());
        }
        // The records in the response are views of the connection's receive buffer: everything that reads them
        // happens below, before the connection is used again (by the ListOffsets requests of out-of-range partitions).
        processResponse(requested, response);
    }

    private void processResponse(List<Requested> requested, FetchResponseData response) {
        if (response.errorCode != Errors.NONE.code) {
            Errors error = Errors.forCode(response.errorCode);
            lock.lock();
            try {
                for (Requested q : requested) {
                    if (partitions.get(q.state.key) == q.state) {
                        problem(q.state, false, "leader " + leader.nodeId() + " answered the fetch with " + error, null);
                    }
                }
            } finally {
                lock.unlock();
            }
            return;
        }
        Map<PartitionKey, Requested> byKey = new HashMap<>();
        for (Requested q : requested) {
            byKey.put(q.state.key, q);
        }
        List<Requested> outOfRange = new ArrayList<>();
        for (FetchResponseData.FetchableTopicResponse topic : response.responses) {
            for (FetchResponseData.PartitionData data : topic.partitions) {
                Requested q = byKey.get(new PartitionKey(topic.topic, data.partitionIndex));
                if (q == null) {
                    continue;
                }
                lock.lock();
                try {
                    if (!running) {
                        return;
                    }
                    // removed, or removed and added again, while the fetch was in flight: not ours to apply
                    if (partitions.get(q.state.key) != q.state) {
                        continue;
                    }
                    processPartition(q, data, outOfRange);
                } finally {
                    lock.unlock();
                }
            }
        }
        for (Requested q : outOfRange) {
            if (!running || !handleOutOfRange(q)) {
                return;
            }
        }
    }

    /** Under the lock, the partition still assigned. */
    private void processPartition(Requested q, FetchResponseData.PartitionData data, List<Requested> outOfRange) {
        PartitionState s = q.state;
        FollowerPartition p = s.partition;
        try {
            long logEnd = p.logEndOffset();
            if (logEnd != q.fetchOffset) {
                return; // the log changed under the fetch (it should not: only this thread writes it); fetch again
            }
            Errors error = Errors.forCode(data.errorCode);
            switch (error) {
                case NONE -> {
                    if (data.divergingEpoch != null && (data.divergingEpoch.epoch != -1 || data.divergingEpoch.endOffset != -1)) {
                        FollowerFetchLogic.truncateToDivergingEpoch(p, s.key.toString(), leader.nodeId(),
                                data.divergingEpoch.epoch, data.divergingEpoch.endOffset);
                    } else {
                        int appended = FollowerFetchLogic.appendFetched(p, s.key.toString(), leader.nodeId(), logEnd,
                                recordsBuffer(data.records), data.highWatermark, data.logStartOffset);
                        if (appended > 0) {
                            fetchedBytes.add(appended);
                            // fairness under replica.fetch.response.max.bytes: partitions that got data go to the back
                            partitions.remove(s.key);
                            partitions.put(s.key, s);
                        }
                        s.leaderHighWatermark = data.highWatermark;
                        s.lag = Math.max(0L, data.highWatermark - p.logEndOffset());
                    }
                    s.lastProblem = null;
                }
                case OFFSET_OUT_OF_RANGE -> outOfRange.add(q);
                case FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH -> {
                    if (p.leaderEpoch() != q.currentLeaderEpoch) {
                        return; // the metadata moved on since the request: fetch again with the new epoch at once
                    }
                    problem(s, false, "leader " + leader.nodeId() + " answered " + error + " to leader epoch "
                            + q.currentLeaderEpoch, null);
                }
                // NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION, ...: leadership is moving; the broker
                // re-assigns the partition when the metadata says where to
                default -> problem(s, false, "leader " + leader.nodeId() + " answered " + error, null);
            }
        } catch (FollowerFetchLogic.Problem e) {
            problem(s, e.warn, e.getMessage(), null);
        } catch (IOException | RuntimeException e) {
            problem(s, true, "error processing the data fetched at offset " + q.fetchOffset + ": " + e, e);
        }
    }

    /**
     * OFFSET_OUT_OF_RANGE (Kafka's fetchOffsetAndTruncate): ask the leader for its end offset; if we are ahead, truncate
     * to it; otherwise ask for its start offset and, if our log ends before it, empty the log and restart it there.
     * The ListOffsets requests run without the lock; the truncation under it, if the partition is still ours.
     * Returns false when the connection failed (the rest waits for the backoff).
     */
    private boolean handleOutOfRange(Requested q) {
        PartitionState s = q.state;
        long leaderEnd;
        long leaderStart = -1L;
        try {
            leaderEnd = listOffset(s.key, q.currentLeaderEpoch, LATEST_TIMESTAMP);
            if (leaderEnd >= q.fetchOffset) {
                leaderStart = listOffset(s.key, q.currentLeaderEpoch, EARLIEST_TIMESTAMP);
            }
        } catch (LeaderError e) {
            lock.lock();
            try {
                if (partitions.get(s.key) == s) {
                    problem(s, false, "fetch offset " + q.fetchOffset + " out of range and leader " + leader.nodeId()
                            + " answered ListOffsets with " + e.error, null);
                }
            } finally {
                lock.unlock();
            }
            return true;
        } catch (IOException e) {
            if (running) {
                onConnectionError(e);
            }
            return false;
        }
        lock.lock();
        try {
            if (!running || partitions.get(s.key) != s) {
                return true;
            }
            FollowerPartition p = s.partition;
            FollowerFetchLogic.truncateOutOfRange(p, s.key.toString(), leader.nodeId(), q.fetchOffset, leaderStart, leaderEnd);
            s.lag = Math.max(0L, leaderEnd - p.logEndOffset());
            s.lastProblem = null;
        } catch (FollowerFetchLogic.Problem e) {
            problem(s, e.warn, e.getMessage(), null);
        } catch (IOException | RuntimeException e) {
            problem(s, true, "error truncating after an out-of-range fetch offset " + q.fetchOffset + ": " + e, e);
        } finally {
            lock.unlock();
        }
        return true;
    }

    private long listOffset(PartitionKey key, int currentLeaderEpoch, long timestamp) throws IOException, LeaderError {
        ListOffsetsRequestData request = new ListOffsetsRequestData()
                .setReplicaId(replicaId)
                .setIsolationLevel((byte) 0)
                .setTopics(List.of(new ListOffsetsRequestData.ListOffsetsTopic()
                        .setName(key.topic())
                        .setPartitions(List.of(new ListOffsetsRequestData.ListOffsetsPartition()
                                .setPartitionIndex(key.partition())
                                .setCurrentLeaderEpoch(currentLeaderEpoch)
                                .setTimestamp(timestamp)))));
        ListOffsetsResponseData response = parse(connection.send(ApiKeys.LIST_OFFSETS, LIST_OFFSETS_VERSION, request),
                ListOffsetsResponseData::new, LIST_OFFSETS_VERSION);
        for (ListOffsetsResponseData.ListOffsetsTopicResponse t : response.topics) {
            if (!t.name.equals(key.topic())) {
                continue;
            }
            for (ListOffsetsResponseData.ListOffsetsPartitionResponse pr : t.partitions) {
                if (pr.partitionIndex == key.partition()) {
                    if (pr.errorCode != Errors.NONE.code) {
                        throw new LeaderError(Errors.forCode(pr.errorCode));
                    }
                    return pr.offset;
                }
            }
        }
        throw new LeaderError(Errors.UNKNOWN_TOPIC_OR_PARTITION);
    }

    /** Reads a response body; a malformed one drops the connection like an I/O error. */
    private <T> T parse(Readable r, BiFunction<Readable, Short, T> reader, short version)
            throws IOException {
        try {
            return reader.apply(r, version);
        } catch (RuntimeException e) {
            connection.disconnect();
            throw new IOException("Malformed response from leader " + leader.nodeId() + ": " + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------------ errors and backoff

    private void onConnectionError(IOException e) {
        connection.disconnect();
        if (!connectionFailing) {
            connectionFailing = true;
            LOG.warn("Replica fetcher {} lost leader {} ({}:{}): {}; retrying every {} ms", getName(), leader.nodeId(),
                    leader.host(), leader.port(), e.toString(), config.fetchBackoffMs());
        } else {
            LOG.debug("Replica fetcher {}: leader {} still unreachable: {}", getName(), leader.nodeId(), e.toString());
        }
        delayAll();
    }

    private void delayAll() {
        lock.lock();
        try {
            for (PartitionState s : partitions.values()) {
                delay(s);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Under the lock: the partition sits out {@code replica.fetch.backoff.ms}. */
    private void delay(PartitionState s) {
        long until = System.nanoTime() + backoffNanos;
        if (!s.delayed || until - s.delayUntilNanos > 0) {
            s.delayUntilNanos = until;
        }
        s.delayed = true;
    }

    /** Under the lock: backs the partition off, logging the problem unless it is the same as last time. */
    private void problem(PartitionState s, boolean warn, String message, Throwable cause) {
        delay(s);
        if (message.equals(s.lastProblem)) {
            LOG.debug("{}: {}; retrying in {} ms", s.key, message, config.fetchBackoffMs());
            return;
        }
        s.lastProblem = message;
        if (warn) {
            LOG.warn("{}: {}; retrying in {} ms", s.key, message, config.fetchBackoffMs(), cause);
        } else {
            LOG.info("{}: {}; retrying in {} ms", s.key, message, config.fetchBackoffMs());
        }
    }

    /**
     * The batches of a partition as a ByteBuffer for {@link FollowerPartition#appendAsFollower}: a view of the
     * response buffer when the records are one contiguous buffer (always, as read by this connection), else a copy.
     */
    static ByteBuffer recordsBuffer(Records records) {
        if (records == null || records.sizeInBytes() == 0) {
            return ByteBuffer.allocate(0);
        }
        if (records instanceof ByteBufRecords br) {
            ByteBuf b = br.buffer();
            if (b.nioBufferCount() == 1) {
                return b.nioBuffer(b.readerIndex(), b.readableBytes());
            }
        }
        ByteBuf copy = Unpooled.buffer(records.sizeInBytes());
        records.writeTo(new ByteBufWritable(copy));
        return copy.nioBuffer();
    }
}
