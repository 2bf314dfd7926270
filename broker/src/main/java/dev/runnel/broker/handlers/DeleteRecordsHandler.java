package dev.runnel.broker.handlers;

import dev.runnel.broker.network.RequestContext;
import dev.runnel.broker.state.Partition;
import dev.runnel.broker.state.Topic;
import dev.runnel.broker.state.TopicConfigs;
import dev.runnel.log.LogErrors;
import dev.runnel.log.LogException;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.DeleteRecordsRequestData;
import dev.runnel.wire.message.DeleteRecordsResponseData;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * DeleteRecords (21), versions 0-2 (KIP-107): moves a partition's log start offset up to the requested offset,
 * as Kafka's {@code deleteRecordsOnLeader}. Records below it can no longer be fetched (OFFSET_OUT_OF_RANGE, so
 * consumers reset per {@code auto.offset.reset}), ListOffsets earliest answers it, and the next retention pass
 * removes the segments wholly below it. The answer's {@code low_watermark} is the new log start offset; the
 * change is on disk before the answer goes out. Offset -1 means the high watermark. Errors, as Kafka:
 * <ul>
 *   <li>internal topics: INVALID_TOPIC_EXCEPTION;</li>
 *   <li>unknown topic or partition: UNKNOWN_TOPIC_OR_PARTITION;</li>
 *   <li>a topic whose {@code cleanup.policy} lacks {@code delete}: POLICY_VIOLATION;</li>
 *   <li>an offset below -1 or above the high watermark: OFFSET_OUT_OF_RANGE.</li>
 * </ul>
 * A single node is the only replica, so the timeout never has to be waited for.
 */
public final class DeleteRecordsHandler implements ApiHandler {
    private static final Logger LOG = LoggerFactory.getLogger(DeleteRecordsHandler.class);
    /** {@code DeleteRecordsRequest.HIGH_WATERMARK}. */
    static final long HIGH_WATERMARK = -1L;

    @Override
    public ApiKeys api() {
        return ApiKeys.DELETE_RECORDS;
    }

    @Override
    public short highestVersion() {
        return 2;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        DeleteRecordsRequestData req = (DeleteRecordsRequestData) request;
        DeleteRecordsResponseData resp = new DeleteRecordsResponseData();
        for (DeleteRecordsRequestData.DeleteRecordsTopic t : req.topics) {
            DeleteRecordsResponseData.DeleteRecordsTopicResult tr = new DeleteRecordsResponseData.DeleteRecordsTopicResult()
                    .setName(t.name);
            Topic topic = ctx.broker().topics().get(t.name);
            for (DeleteRecordsRequestData.DeleteRecordsPartition rp : t.partitions) {
                tr.partitions.add(deleteRecords(t.name, topic, rp));
            }
            resp.topics.add(tr);
        }
        return CompletableFuture.completedFuture(resp);
    }

    private static DeleteRecordsResponseData.DeleteRecordsPartitionResult deleteRecords(String name, Topic topic,
            DeleteRecordsRequestData.DeleteRecordsPartition rp) {
        DeleteRecordsResponseData.DeleteRecordsPartitionResult r = new DeleteRecordsResponseData.DeleteRecordsPartitionResult()
                .setPartitionIndex(rp.partitionIndex)
                .setLowWatermark(-1L);
        if (TopicConfigs.isInternalTopicName(name)) {
            return r.setErrorCode(Errors.INVALID_TOPIC_EXCEPTION.code());
        }
        Partition p = topic == null || topic.deleted() ? null : topic.partition(rp.partitionIndex);
        if (p == null || !p.isOnline()) {
            return r.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
        }
        if (!p.isLeader()) {
            return r.setErrorCode(Errors.NOT_LEADER_OR_FOLLOWER.code());
        }
        if (!p.log().config().cleanup().delete()) {
            return r.setErrorCode(Errors.POLICY_VIOLATION.code());
        }
        long offset = rp.offset == HIGH_WATERMARK ? p.highWatermark() : rp.offset;
        if (offset < 0) {
            return r.setErrorCode(Errors.OFFSET_OUT_OF_RANGE.code());
        }
        try {
            long start = p.log().maybeIncrementLogStartOffset(offset);
            return r.setErrorCode(Errors.NONE.code()).setLowWatermark(start);
        } catch (LogException e) {
            return r.setErrorCode(e.errorCode() == LogErrors.OFFSET_OUT_OF_RANGE ? Errors.OFFSET_OUT_OF_RANGE.code()
                    : Errors.KAFKA_STORAGE_ERROR.code());
        } catch (IOException e) {
            LOG.warn("DeleteRecords on {}-{} failed", name, rp.partitionIndex, e);
            return r.setErrorCode(Errors.KAFKA_STORAGE_ERROR.code());
        }
    }
}
