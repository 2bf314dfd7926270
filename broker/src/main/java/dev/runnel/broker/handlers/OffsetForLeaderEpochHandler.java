package dev.runnel.broker.handlers;

import dev.runnel.broker.network.RequestContext;
import dev.runnel.broker.state.Partition;
import dev.runnel.broker.state.Topic;
import dev.runnel.log.EpochEndOffset;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.OffsetForLeaderEpochRequestData;
import dev.runnel.wire.message.OffsetForLeaderEpochResponseData;
import java.util.concurrent.CompletableFuture;

/**
 * OffsetForLeaderEpoch (23), versions 0-4: the end offset of a leader epoch, from the log's leader epoch
 * cache, as Kafka's LeaderEpochFileCache.endOffsetFor. The leader epoch here is always 0 and starts at the
 * partition's first offset, so: epoch 0 → (0, log end offset); an epoch above 0 or -1 (undefined) →
 * (-1, -1), Kafka's UNDEFINED_EPOCH/UNDEFINED_EPOCH_OFFSET, which tells a consumer validating its position
 * that it cannot be checked (it then resets per its policy) and a follower to truncate to its high
 * watermark. A current leader epoch other than 0 is FENCED_LEADER_EPOCH (older) or UNKNOWN_LEADER_EPOCH
 * (newer); -1 means the client does not know it. The Java consumer uses v3+ to validate positions after
 * metadata changes.
 */
public final class OffsetForLeaderEpochHandler implements ApiHandler {
    @Override
    public ApiKeys api() {
        return ApiKeys.OFFSET_FOR_LEADER_EPOCH;
    }

    @Override
    public short highestVersion() {
        return 4;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        OffsetForLeaderEpochRequestData req = (OffsetForLeaderEpochRequestData) request;
        OffsetForLeaderEpochResponseData resp = new OffsetForLeaderEpochResponseData();
        for (OffsetForLeaderEpochRequestData.OffsetForLeaderTopic t : req.topics) {
            OffsetForLeaderEpochResponseData.OffsetForLeaderTopicResult tr =
                    new OffsetForLeaderEpochResponseData.OffsetForLeaderTopicResult().setTopic(t.topic);
            Topic topic = ctx.broker().topics().get(t.topic);
            for (OffsetForLeaderEpochRequestData.OffsetForLeaderPartition lp : t.partitions) {
                Partition p = topic == null || topic.deleted() ? null : topic.partition(lp.partition);
                tr.partitions.add(endOffset(p, lp));
            }
            resp.topics.add(tr);
        }
        return CompletableFuture.completedFuture(resp);
    }

    private static OffsetForLeaderEpochResponseData.EpochEndOffset endOffset(Partition p,
                                                                            OffsetForLeaderEpochRequestData.OffsetForLeaderPartition lp) {
        OffsetForLeaderEpochResponseData.EpochEndOffset r = new OffsetForLeaderEpochResponseData.EpochEndOffset()
                .setPartition(lp.partition)
                .setLeaderEpoch(-1)
                .setEndOffset(-1L);
        if (p == null || !p.isOnline()) {
            return r.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
        }
        if (!p.isLeader()) {
            return r.setErrorCode(Errors.NOT_LEADER_OR_FOLLOWER.code());
        }
        if (lp.currentLeaderEpoch != -1 && lp.currentLeaderEpoch != p.leaderEpoch()) {
            return r.setErrorCode((lp.currentLeaderEpoch < p.leaderEpoch() ? Errors.FENCED_LEADER_EPOCH
                    : Errors.UNKNOWN_LEADER_EPOCH).code());
        }
        EpochEndOffset eo = p.endOffsetForEpoch(lp.leaderEpoch);
        return r.setErrorCode(Errors.NONE.code()).setLeaderEpoch(eo.leaderEpoch()).setEndOffset(eo.endOffset());
    }
}
