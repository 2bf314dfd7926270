package dev.runnel.broker.state;

import dev.runnel.log.AbortedTxn;
import dev.runnel.log.AppendOrigin;
import dev.runnel.log.AppendResult;
import dev.runnel.log.EpochEndOffset;
import dev.runnel.log.LogConfig;
import dev.runnel.log.LogReadResult;
import dev.runnel.log.PartitionLog;
import dev.runnel.log.TimestampAndOffset;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One partition hosted by this node: its log and its replica state. On a single node this node is the
 * leader, the only replica and the whole ISR, and the high watermark is the log end offset.
 * <p>
 * Appends go through {@link #appendAsLeader}, which appends under the log's own per-partition lock, moves
 * the high watermark to the new log end offset and then wakes the {@link AppendListener}s that are parked
 * on this partition (fetch long-polls). Waking costs nothing when nobody waits; nothing is allocated per
 * record.
 */
public final class Partition {
    private static final Logger LOG = LoggerFactory.getLogger(Partition.class);

    /** The leader epoch of every partition on a single node; the log stamps it into appended batches. */
    public static final int LEADER_EPOCH = 0;

    /**
     * Something waiting for this partition's log end offset (and high watermark) to move, e.g. a parked
     * fetch. Called on the appending thread after the append is visible to readers: keep it short and never
     * block or read the log there (hand real work to another thread).
     */
    public interface AppendListener {
        /** New data is readable; also called once with the partition gone ({@link #isOnline()} false). */
        void onAppend(Partition partition);
    }

    private final Topic topic;
    private final int index;
    private final int leaderId;
    private final PartitionLog log;
    private final Set<AppendListener> listeners = ConcurrentHashMap.newKeySet();
    /** Bytes appended since the partition was opened: lets a waiter measure what arrived since it looked. */
    private final AtomicLong appendedBytes = new AtomicLong();
    private volatile boolean online = true;
    /** In a cluster: whether this node is the partition's leader now (the single-node default always is). */
    private volatile boolean leader = true;
    /** The leader epoch this node knows for the partition (the metadata's, in a cluster). */
    private volatile int leaderEpoch = LEADER_EPOCH;
    /** On a leader with followers: what it knows of them; null when this replica alone commits what it appends. */
    private volatile dev.runnel.replication.leader.LeaderState replicas;

    private Partition(Topic topic, int index, int leaderId, PartitionLog log) {
        this.topic = topic;
        this.index = index;
        this.leaderId = leaderId;
        this.log = log;
    }

    static Partition open(Topic topic, int index, int leaderId, Path dir, LogConfig config) throws IOException {
        PartitionLog log = PartitionLog.open(dir, config);
        // As Kafka's makeLeader: the current leader epoch starts at the log end offset, so that an empty
        // partition already answers OffsetForLeaderEpoch(0) with its end offset.
        log.leaderEpochCache().assign(LEADER_EPOCH, log.logEndOffset());
        log.updateHighWatermark(log.logEndOffset());
        return new Partition(topic, index, leaderId, log);
    }

    public Topic topic() {
        return topic;
    }

    public int index() {
        return index;
    }

    public int leaderId() {
        return leaderId;
    }

    public int leaderEpoch() {
        return leaderEpoch;
    }

    /** The leader's bookkeeping of its followers, or null (a single replica, or not the leader). */
    public dev.runnel.replication.leader.LeaderState replicas() {
        return replicas;
    }

    /**
     * Makes this replica the leader in {@code epoch} (Kafka's makeLeader): the epoch starts at the log end offset;
     * with {@code followers} null this replica alone commits, so everything it has is committed.
     */
    public synchronized void becomeLeader(int epoch, dev.runnel.replication.leader.LeaderState followers) {
        if (epoch > log.leaderEpochCache().latestEpoch()) {
            log.leaderEpochCache().assign(epoch, log.logEndOffset());
        }
        this.leaderEpoch = epoch;
        this.replicas = followers;
        this.leader = true;
        if (followers == null) {
            log.updateHighWatermark(Long.MAX_VALUE);
        }
        wakeListeners();
    }

    /** Makes this replica a follower (or a replica without a leader) in {@code epoch}. */
    public synchronized void becomeFollower(int epoch) {
        this.leader = false;
        this.replicas = null;
        this.leaderEpoch = epoch;
        wakeListeners();
    }

    /**
     * A follower fetched from {@code fetchOffset} (its log end offset): the leader's bookkeeping and the high
     * watermark move; waiters (consumers' long polls, acks=all produces) hear of a new high watermark.
     */
    public void onFollowerFetch(int replicaId, long fetchOffset, long nowMs) {
        dev.runnel.replication.leader.LeaderState r = replicas;
        if (r == null) {
            return;
        }
        long leo = log.logEndOffset();
        r.onFollowerFetch(replicaId, fetchOffset, leo, nowMs);
        maybeAdvanceHighWatermark(r, leo);
    }

    /** Recomputes the high watermark from the followers' positions (also after an ISR change). */
    public void maybeAdvanceHighWatermark() {
        dev.runnel.replication.leader.LeaderState r = replicas;
        if (r != null) {
            maybeAdvanceHighWatermark(r, log.logEndOffset());
        }
    }

    private void maybeAdvanceHighWatermark(dev.runnel.replication.leader.LeaderState r, long leo) {
        long hw = r.maybeIncrementHighWatermark(leo);
        if (hw >= 0) {
            log.updateHighWatermark(hw);
            wakeListeners();
        }
    }

    /** Batches for a follower: up to the log end offset, not only to the high watermark. */
    public LogReadResult readForReplica(long fetchOffset, int maxBytes, boolean minOneBatch) {
        return log.read(fetchOffset, Math.max(0, maxBytes), log.logEndOffset(), minOneBatch);
    }

    /** Wakes waiters (a follower appended, or the high watermark moved on a follower). */
    public void notifyWaiters() {
        wakeListeners();
    }

    public PartitionLog log() {
        return log;
    }

    /**
     * Whether this node leads the partition and serves its produce and fetch requests. Always true on a single node;
     * in a cluster the metadata publisher sets it from the partition's leader in the metadata image.
     */
    public boolean isLeader() {
        return leader;
    }

    public void setLeader(boolean leader) {
        this.leader = leader;
    }

    /** False once the partition's topic was deleted or the broker shut down. */
    public boolean isOnline() {
        return online && !topic.deleted();
    }

    // ------------------------------------------------------------------ offsets

    public long logStartOffset() {
        return log.logStartOffset();
    }

    public long logEndOffset() {
        return log.logEndOffset();
    }

    /** The high watermark: the log end offset on a single node (kept in the log, see {@link #appendAsLeader}). */
    public long highWatermark() {
        return log.highWatermark();
    }

    /**
     * Last stable offset: the high watermark, or the first offset of the earliest transaction that is still open
     * (or whose marker is not below the high watermark yet), whichever is lower. The log derives it from the
     * transactional batches and markers it holds; read_committed consumers read below it.
     */
    public long lastStableOffset() {
        return log.lastStableOffset();
    }

    /** Total bytes appended through this object; grows monotonically (a waiter's yardstick, not a log size). */
    public long appendedBytes() {
        return appendedBytes.get();
    }

    // ------------------------------------------------------------------ writes

    /**
     * Appends a producer's batches (validated by the log; offsets, leader epoch and for LogAppendTime
     * topics the time are rewritten in {@code records}, which must be writable), advances the high watermark
     * and wakes waiters. The log copies the bytes to its file before this returns, so {@code records} may be
     * a view of a request frame.
     */
    public AppendResult appendAsLeader(ByteBuffer records) {
        return appendAsLeader(records, AppendOrigin.CLIENT);
    }

    /**
     * As {@link #appendAsLeader(ByteBuffer)} for {@code origin}: {@link AppendOrigin#COORDINATOR} for the broker's
     * own writes, e.g. the transaction coordinator's COMMIT/ABORT markers (control batches; a marker may move the
     * last stable offset, and waiters hear of it like of any append).
     */
    public AppendResult appendAsLeader(ByteBuffer records, AppendOrigin origin) {
        int size = records.remaining();
        AppendResult r = log.append(records, leaderEpoch, origin);
        if (r.isOk() && !r.duplicate()) {
            dev.runnel.replication.leader.LeaderState followers = replicas;
            if (followers == null) {
                // Single replica: everything appended is committed. updateHighWatermark clamps to the log end
                // offset under the log's lock, so concurrent appends never move it backwards.
                log.updateHighWatermark(Long.MAX_VALUE);
            } else {
                // Committed once the in-sync followers have it (an ISR of the leader alone commits at once).
                long hw = followers.maybeIncrementHighWatermark(log.logEndOffset());
                if (hw >= 0) {
                    log.updateHighWatermark(hw);
                }
            }
            appendedBytes.addAndGet(size);
            wakeListeners();
        }
        return r;
    }

    // ------------------------------------------------------------------ reads

    /**
     * Whole batches from {@code fetchOffset}, below the high watermark (consumers never see more), within
     * {@code maxBytes} except that the first batch is returned whatever its size when {@code minOneBatch}
     * (Kafka's rule for the first partition with data in a fetch); without it a first batch larger than
     * {@code maxBytes} gives an empty result.
     */
    public LogReadResult read(long fetchOffset, int maxBytes, boolean minOneBatch) {
        return log.read(fetchOffset, Math.max(0, maxBytes), log.highWatermark(), minOneBatch);
    }

    /**
     * As {@link #read(long, int, boolean)} for a read_committed consumer: below {@code lastStableOffset} (the value
     * of {@link #lastStableOffset()} the caller reports with the data).
     */
    public LogReadResult readCommitted(long fetchOffset, int maxBytes, boolean minOneBatch, long lastStableOffset) {
        return log.read(fetchOffset, Math.max(0, maxBytes), lastStableOffset, minOneBatch);
    }

    /** The aborted transactions a read_committed fetch at {@code fetchOffset} returns with {@code read}'s data. */
    public java.util.List<AbortedTxn> abortedTransactions(long fetchOffset, LogReadResult read) {
        return log.abortedTransactions(fetchOffset, read);
    }

    /**
     * ListOffsets lookup (special timestamps -1, -2, -3, -4 or a real one), or null when no record
     * qualifies. {@code -1} answers the high watermark.
     */
    public TimestampAndOffset offsetForTimestamp(long timestamp) throws IOException {
        if (timestamp == PartitionLog.LATEST_TIMESTAMP) {
            return new TimestampAndOffset(-1L, highWatermark(), leaderEpoch);
        }
        return log.offsetForTimestamp(timestamp);
    }

    /** OffsetForLeaderEpoch: the end offset of {@code epoch} (the log end offset for the current epoch). */
    public EpochEndOffset endOffsetForEpoch(int epoch) {
        return log.endOffsetForEpoch(epoch);
    }

    // ------------------------------------------------------------------ waiters

    /** Registers a waiter; the caller must re-check the log after registering (an append may have raced). */
    public void addListener(AppendListener l) {
        listeners.add(l);
        if (!isOnline()) {
            // deleted while registering: make sure the waiter hears about it
            l.onAppend(this);
        }
    }

    public void removeListener(AppendListener l) {
        listeners.remove(l);
    }

    /** Number of parked waiters (tests, metrics). */
    public int listenerCount() {
        return listeners.size();
    }

    private void wakeListeners() {
        if (listeners.isEmpty()) {
            return;
        }
        for (AppendListener l : listeners) {
            try {
                l.onAppend(this);
            } catch (RuntimeException e) {
                LOG.warn("Waiter on {}-{} failed", topic.name(), index, e);
            }
        }
    }

    // ------------------------------------------------------------------ lifecycle

    void updateConfig(LogConfig config) {
        log.updateConfig(config);
    }

    void flush() {
        try {
            log.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    void close() {
        goOffline();
        try {
            log.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    void delete() {
        goOffline();
        try {
            log.deleteAll();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void goOffline() {
        online = false;
        for (AppendListener l : listeners) {
            try {
                l.onAppend(this);
            } catch (RuntimeException e) {
                LOG.warn("Waiter on {}-{} failed", topic.name(), index, e);
            }
        }
    }

    @Override
    public String toString() {
        return topic.name() + "-" + index;
    }
}
