package dev.runnel.broker.fetch;

import dev.runnel.broker.metrics.BrokerMetrics;
import dev.runnel.broker.network.KafkaRequestHandler;
import dev.runnel.broker.network.RegionRecords;
import dev.runnel.broker.state.Partition;
import dev.runnel.log.AbortedTxn;
import dev.runnel.replication.leader.ReplicaFetchCheck;
import dev.runnel.log.LogErrors;
import dev.runnel.log.LogReadResult;
import dev.runnel.log.LogRegion;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.ByteBufRecords;
import dev.runnel.wire.Errors;
import dev.runnel.wire.Records;
import dev.runnel.wire.message.FetchRequestData;
import dev.runnel.wire.message.FetchResponseData;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.util.Timeout;
import io.netty.util.Timer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One sessionless fetch: the resolved partitions of a request, the reads, and, when fewer than
 * {@code min_bytes} are available, the long-poll (Kafka's DelayedFetch).
 * <p>
 * Reads follow Kafka's ReplicaManager.readFromLog: partitions in request order, each within
 * min(partition_max_bytes, what is left of max_bytes), except that the first partition that has data always
 * gets at least its first batch, however large. Records are file regions, sent zero-copy.
 * <p>
 * Parking: the fetch registers itself as an {@link Partition.AppendListener} on every partition it reads
 * and arms a timer for {@code max_wait_ms}. An append wakes it; it measures what arrived since it looked
 * (each partition counts the bytes appended to it, so nothing is read to decide) and completes once
 * {@code min_bytes} are there, or when the timer fires, or when a partition goes away. Completion happens
 * exactly once; the final read and the response are done on the connection's event loop, never on the
 * producer's or the timer's thread. An append that races with parking is caught by re-checking the
 * counters after registering.
 */
public final class FetchOperation implements Partition.AppendListener {
    private static final Logger LOG = LoggerFactory.getLogger(FetchOperation.class);
    private static final Records EMPTY = new ByteBufRecords(Unpooled.EMPTY_BUFFER);

    /** One requested partition: where it goes in the response, and the partition or the error that replaces it. */
    public static final class Slot {
        final FetchRequestData.FetchPartition request;
        final Partition partition;
        final Errors error;
        final FetchResponseData.PartitionData response;
        long appendedAtRead;
        /** read_committed: the last stable offset when the partition was read (data below it was returned). */
        long stableAtRead;
        /** The read behind the response entry, when it carries data (for the bytes/records out meters). */
        LogReadResult lastRead;

        public Slot(FetchRequestData.FetchPartition request, Partition partition, Errors error,
                    FetchResponseData.PartitionData response) {
            this.request = request;
            this.partition = partition;
            this.error = error;
            this.response = response;
        }

        public Partition partition() {
            return partition;
        }

        public FetchRequestData.FetchPartition request() {
            return request;
        }

        public FetchResponseData.PartitionData response() {
            return response;
        }

        public long fetchOffset() {
            return request.fetchOffset;
        }

        /** The error found when the request was read (NONE when the partition is served). */
        public Errors error() {
            return error;
        }
    }

    private final FetchResponseData response;
    private final List<Slot> slots;
    private final short version;
    private final boolean fromFollower;
    private final boolean readCommitted;
    private final int maxWaitMs;
    private final int minBytes;
    private final int maxBytes;
    private final BrokerMetrics metrics;
    private ByteBuffer nextOffsetBuf;
    private final CompletableFuture<ApiMessage> future = new CompletableFuture<>();
    private final AtomicBoolean done = new AtomicBoolean();
    /** Answers the parked fetch now: a later request on the connection waits behind it (see KafkaRequestHandler). */
    private final Runnable answerEarly = this::finish;
    private long bytesAtRead;
    private Channel channel;
    private ChannelFutureListener onClose;
    private volatile Timeout timeout;

    /**
     * @param response the response skeleton: one topic entry per requested topic, whose partition entries are
     *                 the {@link Slot#response}s, in request order
     */
    public FetchOperation(FetchResponseData response, List<Slot> slots, short version, boolean fromFollower,
                          boolean readCommitted, int maxWaitMs, int minBytes, int maxBytes) {
        this(response, slots, version, fromFollower, readCommitted, maxWaitMs, minBytes, maxBytes, null);
    }

    /** As above, counting bytes and records out and the fetch purgatory in {@code metrics} (may be null). */
    public FetchOperation(FetchResponseData response, List<Slot> slots, short version, boolean fromFollower,
                          boolean readCommitted, int maxWaitMs, int minBytes, int maxBytes, BrokerMetrics metrics) {
        this.metrics = metrics;
        this.response = response;
        this.slots = slots;
        this.version = version;
        this.fromFollower = fromFollower;
        this.readCommitted = readCommitted;
        this.maxWaitMs = maxWaitMs;
        this.maxBytes = maxBytes;
        this.minBytes = Math.min(minBytes, maxBytes);
    }

    /**
     * Reads, and answers at once when Kafka would (no wait wanted, nothing to read, enough data, an error or
     * a diverging epoch); otherwise parks on the partitions and {@code timer} until data or the deadline.
     */
    public CompletableFuture<ApiMessage> run(Channel channel, Timer timer) {
        for (Slot s : slots) {
            if (s.partition != null) {
                s.appendedAtRead = s.partition.appendedBytes();
                s.stableAtRead = s.partition.lastStableOffset();
            }
        }
        ReadOutcome first = readAll();
        boolean anyReadable = false;
        for (Slot s : slots) {
            anyReadable |= s.partition != null;
        }
        if (maxWaitMs <= 0 || !anyReadable || first.bytes >= minBytes || first.immediate) {
            recordOut();
            future.complete(response);
            return future;
        }
        bytesAtRead = first.bytes;
        if (metrics != null) {
            metrics.fetchParked(); // left in finish() or cancel(), whichever wins
        }
        this.channel = channel;
        this.onClose = f -> cancel();
        this.timeout = timer.newTimeout(t -> finish(), maxWaitMs, TimeUnit.MILLISECONDS);
        channel.closeFuture().addListener(onClose);
        channel.attr(KafkaRequestHandler.PARKED_FETCH).set(answerEarly);
        for (Slot s : slots) {
            if (s.partition != null) {
                s.partition.addListener(this);
            }
        }
        if (done.get()) {
            // The timer fired (or the connection closed) while we were registering: undo what came after.
            detach();
        } else if (satisfied()) {
            // Appends between the read and the registration left no wake-up: the counters tell.
            finish();
        }
        return future;
    }

    /** Called on the appending thread: decide cheaply, hand the work to the connection's event loop. */
    @Override
    public void onAppend(Partition partition) {
        if (done.get()) {
            return;
        }
        if (!partition.isOnline() || satisfied()) {
            finish();
        }
    }

    /** Bytes read at first plus what arrived since on each partition (capped by its max bytes) reach min_bytes. */
    private boolean satisfied() {
        long total = bytesAtRead;
        if (total >= minBytes) {
            return true;
        }
        for (Slot s : slots) {
            if (s.partition == null) {
                continue;
            }
            if (!s.partition.isOnline()) {
                return true;
            }
            if (readCommitted && !fromFollower && s.partition.lastStableOffset() <= s.stableAtRead) {
                // Appended data a read_committed consumer cannot see yet (an open transaction) does not count.
                // Once the last stable offset moves, all that arrived counts: with fetch.min.bytes above 1 an
                // answer can come a little before min_bytes are stable (Kafka measures the stable bytes exactly).
                continue;
            }
            long arrived = s.partition.appendedBytes() - s.appendedAtRead;
            if (arrived > 0) {
                total += Math.min(arrived, Math.max(0, s.request.partitionMaxBytes));
                if (total >= minBytes) {
                    return true;
                }
            }
        }
        return false;
    }

    private void finish() {
        if (!done.compareAndSet(false, true)) {
            return;
        }
        unparked();
        detach();
        try {
            channel.eventLoop().execute(this::complete);
        } catch (RejectedExecutionException e) {
            complete(); // the event loop is shutting down
        }
    }

    private void complete() {
        try {
            readAll();
            recordOut();
            future.complete(response);
        } catch (RuntimeException e) {
            future.completeExceptionally(e);
        }
    }

    /** The connection closed while parked: forget the fetch, send nothing. */
    private void cancel() {
        if (!done.compareAndSet(false, true)) {
            return;
        }
        unparked();
        detach();
        future.complete(null);
    }

    private void unparked() {
        if (metrics != null) {
            metrics.fetchUnparked();
        }
    }

    /**
     * Counts the bytes and records of the response per topic. Records are the offsets delivered past the fetch
     * offset: up to the base offset of the batch that follows the sent data (one 8-byte read at the end of the last
     * region, no per-record work), or up to the high watermark when nothing follows.
     */
    private void recordOut() {
        if (metrics == null) {
            return;
        }
        String lastTopic = null;
        BrokerMetrics.TopicMeters meters = null;
        for (Slot s : slots) {
            LogReadResult r = s.lastRead;
            if (r == null || r.sizeInBytes() == 0) {
                continue;
            }
            String topic = s.partition.topic().name();
            if (!topic.equals(lastTopic)) {
                meters = metrics.topic(topic);
                lastTopic = topic;
            }
            meters.fetched(r.sizeInBytes(), delivered(s.request.fetchOffset, r));
        }
    }

    private long delivered(long fetchOffset, LogReadResult r) {
        long upTo = r.highWatermark();
        LogRegion last = r.regions().get(r.regions().size() - 1);
        ByteBuffer b = nextOffsetBuf;
        if (b == null) {
            b = nextOffsetBuf = ByteBuffer.allocate(Long.BYTES);
        }
        b.clear();
        try {
            long pos = last.position() + last.length();
            for (int i = 0; i < 2 && b.hasRemaining(); i++) {
                if (last.channel().read(b, pos + b.position()) < 0) {
                    break;
                }
            }
            if (!b.hasRemaining()) {
                long next = b.getLong(0);
                if (next > fetchOffset && next < upTo) {
                    upTo = next;
                }
            }
        } catch (IOException | RuntimeException e) {
            // the segment went away meanwhile: count up to the high watermark
        }
        return Math.max(0, upTo - fetchOffset);
    }

    private void detach() {
        Timeout t = timeout;
        if (t != null) {
            t.cancel();
        }
        for (Slot s : slots) {
            if (s.partition != null) {
                s.partition.removeListener(this);
            }
        }
        if (onClose != null) {
            channel.closeFuture().removeListener(onClose);
        }
        if (channel != null) {
            channel.attr(KafkaRequestHandler.PARKED_FETCH).compareAndSet(answerEarly, null);
        }
    }

    private record ReadOutcome(long bytes, boolean immediate) {
    }

    /** Fills every slot's response entry from a fresh read. */
    private ReadOutcome readAll() {
        long limit = maxBytes;
        boolean minOneBatch = true;
        long bytes = 0;
        boolean immediate = false;
        for (Slot s : slots) {
            FetchResponseData.PartitionData pd = s.response;
            if (s.partition == null) {
                fillError(pd, s.error);
                continue;
            }
            int budget = (int) Math.min(Math.max(0, s.request.partitionMaxBytes), limit);
            immediate |= readOne(s, budget, minOneBatch);
            int size = pd.records == null ? 0 : pd.records.sizeInBytes();
            if (size > 0) {
                minOneBatch = false;
            }
            limit = Math.max(0, limit - size);
            bytes += size;
        }
        return new ReadOutcome(bytes, immediate);
    }

    /** Reads one partition into its response entry; returns whether the result must be sent at once. */
    private boolean readOne(Slot s, int budget, boolean minOneBatch) {
        FetchResponseData.PartitionData pd = s.response;
        Partition p = s.partition;
        FetchRequestData.FetchPartition rp = s.request;
        s.lastRead = null;
        if (!p.isOnline()) {
            fillError(pd, Errors.UNKNOWN_TOPIC_OR_PARTITION);
            return true;
        }
        // Kafka's leader epoch fencing; -1 (or any negative) means the client does not know the epoch.
        if (rp.currentLeaderEpoch >= 0 && rp.currentLeaderEpoch != p.leaderEpoch()) {
            fillError(pd, rp.currentLeaderEpoch < p.leaderEpoch() ? Errors.FENCED_LEADER_EPOCH : Errors.UNKNOWN_LEADER_EPOCH);
            return true;
        }
        try {
            if (version >= 12 && rp.lastFetchedEpoch >= 0) {
                ReplicaFetchCheck.Verdict v = ReplicaFetchCheck.check(rp.fetchOffset, rp.lastFetchedEpoch,
                        p.logStartOffset(), p.endOffsetForEpoch(rp.lastFetchedEpoch));
                if (v.kind() == ReplicaFetchCheck.Kind.OUT_OF_RANGE) {
                    fillError(pd, Errors.OFFSET_OUT_OF_RANGE);
                    return true;
                }
                if (v.kind() == ReplicaFetchCheck.Kind.DIVERGING) {
                    fillOffsets(pd, p.highWatermark(), p.lastStableOffset(), p.logStartOffset());
                    pd.divergingEpoch = new FetchResponseData.EpochEndOffset().setEpoch(v.epoch()).setEndOffset(v.endOffset());
                    pd.records = EMPTY;
                    return true;
                }
            }
            // Consumers read below the high watermark (read_committed ones below the last stable offset); a replica
            // (fromFollower) reads to the log end offset.
            long lastStable = p.lastStableOffset();
            boolean committedOnly = readCommitted && !fromFollower;
            LogReadResult r = fromFollower ? p.readForReplica(rp.fetchOffset, budget, minOneBatch)
                    : committedOnly ? p.readCommitted(rp.fetchOffset, budget, minOneBatch, lastStable)
                    : p.read(rp.fetchOffset, budget, minOneBatch);
            if (!r.isOk()) {
                Errors e = r.errorCode() == LogErrors.OFFSET_OUT_OF_RANGE ? Errors.OFFSET_OUT_OF_RANGE
                        : storageError(r.errorCode());
                fillError(pd, e);
                return true;
            }
            pd.errorCode = Errors.NONE.code();
            fillOffsets(pd, r.highWatermark(), Math.min(lastStable, r.highWatermark()), r.logStartOffset());
            if (committedOnly && !r.regions().isEmpty()) {
                for (AbortedTxn t : p.abortedTransactions(rp.fetchOffset, r)) {
                    pd.abortedTransactions.add(new FetchResponseData.AbortedTransaction()
                            .setProducerId(t.producerId()).setFirstOffset(t.firstOffset()));
                }
            }
            pd.records = r.regions().isEmpty() ? EMPTY : toRecords(r.regions());
            s.lastRead = r.regions().isEmpty() ? null : r;
            return false;
        } catch (RuntimeException e) {
            LOG.error("Fetch from {} at offset {} failed", p, rp.fetchOffset, e);
            fillError(pd, Errors.UNKNOWN_SERVER_ERROR);
            return true;
        }
    }

    private Errors storageError(int code) {
        if (code == LogErrors.KAFKA_STORAGE_ERROR) {
            // Kafka: Fetch v5 and older clients do not know KAFKA_STORAGE_ERROR, they retry on NOT_LEADER.
            return version <= 5 ? Errors.NOT_LEADER_OR_FOLLOWER : Errors.KAFKA_STORAGE_ERROR;
        }
        return Errors.forCode((short) code);
    }

    private void fillOffsets(FetchResponseData.PartitionData pd, long hw, long lastStable, long logStart) {
        pd.highWatermark = hw;
        pd.lastStableOffset = lastStable;
        pd.logStartOffset = logStart;
        pd.abortedTransactions = readCommitted ? new ArrayList<>(0) : null;
        pd.preferredReadReplica = -1;
    }

    static void fillError(FetchResponseData.PartitionData pd, Errors e) {
        pd.errorCode = e.code();
        pd.highWatermark = -1L;
        pd.lastStableOffset = -1L;
        pd.logStartOffset = -1L;
        pd.abortedTransactions = null;
        pd.preferredReadReplica = -1;
        pd.records = EMPTY;
    }

    private static Records toRecords(List<LogRegion> regions) {
        List<RegionRecords.Region> out = new ArrayList<>(regions.size());
        for (LogRegion r : regions) {
            out.add(new RegionRecords.Region(r.channel(), r.position(), r.length()));
        }
        return new RegionRecords(out);
    }

    /** The records every partition without data carries: zero bytes, as Kafka's MemoryRecords.EMPTY. */
    public static Records emptyRecords() {
        return EMPTY;
    }
}
