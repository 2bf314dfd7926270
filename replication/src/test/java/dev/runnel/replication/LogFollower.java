package dev.runnel.replication;

import dev.runnel.log.AppendResult;
import dev.runnel.log.EpochEndOffset;
import dev.runnel.log.PartitionLog;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link FollowerPartition} over a real {@link PartitionLog}, as the broker implements it, which also checks the
 * fetcher's threading promises: calls after {@link #removed} was set, calls overlapping each other, and the threads
 * that made them.
 */
final class LogFollower implements FollowerPartition {
    private final String topic;
    private final int partition;
    final PartitionLog log;
    volatile int leaderEpoch;

    /** Set by a test right after removePartitions returned: any call then is a broken promise. */
    volatile boolean removed;
    final AtomicInteger callsWhileRemoved = new AtomicInteger();
    final AtomicInteger overlappingCalls = new AtomicInteger();
    final Set<String> callingThreads = ConcurrentHashMap.newKeySet();
    final AtomicInteger truncations = new AtomicInteger();
    final AtomicInteger fullTruncations = new AtomicInteger();
    private final AtomicInteger inCall = new AtomicInteger();

    LogFollower(String topic, int partition, PartitionLog log, int leaderEpoch) {
        this.topic = topic;
        this.partition = partition;
        this.log = log;
        this.leaderEpoch = leaderEpoch;
    }

    private void enter() {
        if (removed) {
            callsWhileRemoved.incrementAndGet();
        }
        if (inCall.incrementAndGet() > 1) {
            overlappingCalls.incrementAndGet();
        }
        callingThreads.add(Thread.currentThread().getName());
    }

    private void exit() {
        inCall.decrementAndGet();
    }

    @Override
    public String topic() {
        return topic;
    }

    @Override
    public int partition() {
        return partition;
    }

    @Override
    public UUID topicId() {
        return new UUID(1, partition);
    }

    @Override
    public long logStartOffset() {
        enter();
        try {
            return log.logStartOffset();
        } finally {
            exit();
        }
    }

    @Override
    public long logEndOffset() {
        enter();
        try {
            return log.logEndOffset();
        } finally {
            exit();
        }
    }

    @Override
    public int leaderEpoch() {
        enter();
        try {
            return leaderEpoch;
        } finally {
            exit();
        }
    }

    @Override
    public int lastFetchedEpoch() {
        enter();
        try {
            return log.leaderEpochCache().latestEpoch();
        } finally {
            exit();
        }
    }

    @Override
    public EpochEndOffset endOffsetForEpoch(int epoch) {
        enter();
        try {
            return log.endOffsetForEpoch(epoch);
        } finally {
            exit();
        }
    }

    @Override
    public AppendResult appendAsFollower(ByteBuffer records) {
        enter();
        try {
            return log.appendAsFollower(records);
        } finally {
            exit();
        }
    }

    @Override
    public void truncateTo(long offset) throws IOException {
        enter();
        try {
            truncations.incrementAndGet();
            log.truncateTo(offset);
        } finally {
            exit();
        }
    }

    @Override
    public void truncateFullyAndStartAt(long offset) throws IOException {
        enter();
        try {
            fullTruncations.incrementAndGet();
            log.truncateFullyAndStartAt(offset);
        } finally {
            exit();
        }
    }

    @Override
    public long highWatermark() {
        return log.highWatermark();
    }

    @Override
    public void updateHighWatermark(long leaderHighWatermark) {
        enter();
        try {
            log.updateHighWatermark(Math.min(leaderHighWatermark, log.logEndOffset()));
        } finally {
            exit();
        }
    }

    @Override
    public void maybeIncrementLogStartOffset(long leaderLogStartOffset) {
        enter();
        try {
            long target = Math.min(leaderLogStartOffset, log.highWatermark());
            if (target > log.logStartOffset()) {
                log.maybeIncrementLogStartOffset(target);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } finally {
            exit();
        }
    }
}
