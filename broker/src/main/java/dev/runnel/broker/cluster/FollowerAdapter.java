package dev.runnel.broker.cluster;

import dev.runnel.broker.state.Partition;
import dev.runnel.log.AppendResult;
import dev.runnel.log.EpochEndOffset;
import dev.runnel.replication.FollowerPartition;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.UUID;

/** A local partition as the replica fetcher sees it while this node follows its leader. */
final class FollowerAdapter implements FollowerPartition {
    private final Partition partition;

    FollowerAdapter(Partition partition) {
        this.partition = partition;
    }

    Partition local() {
        return partition;
    }

    @Override
    public String topic() {
        return partition.topic().name();
    }

    @Override
    public int partition() {
        return partition.index();
    }

    @Override
    public UUID topicId() {
        return partition.topic().id();
    }

    @Override
    public long logStartOffset() {
        return partition.log().logStartOffset();
    }

    @Override
    public long logEndOffset() {
        return partition.log().logEndOffset();
    }

    @Override
    public int leaderEpoch() {
        return partition.leaderEpoch();
    }

    @Override
    public int lastFetchedEpoch() {
        return partition.log().leaderEpochCache().latestEpoch();
    }

    @Override
    public EpochEndOffset endOffsetForEpoch(int epoch) {
        return partition.endOffsetForEpoch(epoch);
    }

    @Override
    public AppendResult appendAsFollower(ByteBuffer records) {
        return partition.log().appendAsFollower(records);
    }

    @Override
    public void truncateTo(long offset) throws IOException {
        partition.log().truncateTo(offset);
    }

    @Override
    public void truncateFullyAndStartAt(long offset) throws IOException {
        partition.log().truncateFullyAndStartAt(offset);
    }

    @Override
    public long highWatermark() {
        return partition.log().highWatermark();
    }

    @Override
    public void updateHighWatermark(long leaderHighWatermark) {
        long before = partition.log().highWatermark();
        partition.log().updateHighWatermark(leaderHighWatermark);
        if (partition.log().highWatermark() != before) {
            partition.notifyWaiters();
        }
    }

    @Override
    public void maybeIncrementLogStartOffset(long leaderLogStartOffset) {
        try {
            // Never past what this replica has committed (the leader's start can be ahead of our high watermark).
            partition.log().maybeIncrementLogStartOffset(Math.min(leaderLogStartOffset, partition.log().highWatermark()));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FollowerAdapter f && f.partition == partition;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(partition);
    }

    @Override
    public String toString() {
        return topic() + "-" + partition();
    }
}
