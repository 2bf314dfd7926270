package dev.runnel.replication;

import dev.runnel.log.AppendResult;
import dev.runnel.log.EpochEndOffset;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.UUID;

/**
 * A partition this node follows, as the replica fetcher sees it: where its log ends, which leader epoch it follows,
 * and how to append what the leader sends (offsets and leader epochs kept), truncate a diverged suffix and move the
 * high watermark. The broker implements it over its partition log.
 */
public interface FollowerPartition {
    String topic();

    int partition();

    UUID topicId();

    long logStartOffset();

    long logEndOffset();

    /** The leader epoch the metadata gives this partition now: sent as CurrentLeaderEpoch. */
    int leaderEpoch();

    /** The newest leader epoch in the local log (its leader-epoch cache), -1 when it has none: LastFetchedEpoch. */
    int lastFetchedEpoch();

    /** The local log's end offset for {@code epoch} (Kafka's OffsetForLeaderEpoch answer on this replica). */
    EpochEndOffset endOffsetForEpoch(int epoch);

    /** Appends batches exactly as the leader has them. */
    AppendResult appendAsFollower(ByteBuffer records);

    /** Removes everything at and above {@code offset}. */
    void truncateTo(long offset) throws IOException;

    /** Empties the log and starts it at {@code offset} (the leader no longer has what this replica would fetch). */
    void truncateFullyAndStartAt(long offset) throws IOException;

    /** The local high watermark (checkpointed, or the last the leader sent). */
    long highWatermark();

    /** The leader's high watermark, as the fetch response gave it (the follower keeps min(it, its log end)). */
    void updateHighWatermark(long leaderHighWatermark);

    /** The leader's log start offset (a follower moves its own up to it). */
    void maybeIncrementLogStartOffset(long leaderLogStartOffset);
}
