package dev.runnel.broker.handlers;

import dev.runnel.broker.network.RequestContext;
import dev.runnel.broker.state.Partition;
import dev.runnel.broker.state.Topic;
import dev.runnel.log.ProducerStateManager;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.DescribeProducersRequestData;
import dev.runnel.wire.message.DescribeProducersResponseData;
import java.util.concurrent.CompletableFuture;

/**
 * DescribeProducers (61), version 0 (KIP-664; {@code kafka-transactions describe-producers},
 * {@code Admin.describeProducers}): the producers a partition's leader knows from its log — id, epoch, last
 * sequence, last timestamp, the epoch of the transaction coordinator that wrote its last marker, and the first
 * offset of its open transaction (-1 when none), as Kafka's {@code ReplicaManager.activeProducerState}. A replica
 * that does not lead the partition answers NOT_LEADER_OR_FOLLOWER, an unknown partition UNKNOWN_TOPIC_OR_PARTITION.
 */
public final class DescribeProducersHandler implements ApiHandler {
    @Override
    public ApiKeys api() {
        return ApiKeys.DESCRIBE_PRODUCERS;
    }

    @Override
    public short highestVersion() {
        return 0;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        DescribeProducersRequestData req = (DescribeProducersRequestData) request;
        DescribeProducersResponseData resp = new DescribeProducersResponseData();
        for (DescribeProducersRequestData.TopicRequest t : req.topics) {
            DescribeProducersResponseData.TopicResponse tr = new DescribeProducersResponseData.TopicResponse();
            tr.name = t.name;
            Topic topic = ctx.broker().topics().get(t.name);
            for (int index : t.partitionIndexes) {
                tr.partitions.add(describe(topic, index));
            }
            resp.topics.add(tr);
        }
        return CompletableFuture.completedFuture(resp);
    }

    private static DescribeProducersResponseData.PartitionResponse describe(Topic topic, int index) {
        DescribeProducersResponseData.PartitionResponse r = new DescribeProducersResponseData.PartitionResponse();
        r.partitionIndex = index;
        Partition p = topic == null || topic.deleted() ? null : topic.partition(index);
        if (p == null || !p.isOnline()) {
            r.errorCode = Errors.UNKNOWN_TOPIC_OR_PARTITION.code();
            return r;
        }
        if (!p.isLeader()) {
            r.errorCode = Errors.NOT_LEADER_OR_FOLLOWER.code();
            return r;
        }
        for (ProducerStateManager.ProducerState s : p.log().producerStates()) {
            DescribeProducersResponseData.ProducerState ps = new DescribeProducersResponseData.ProducerState();
            ps.producerId = s.producerId();
            ps.producerEpoch = s.producerEpoch();
            ps.lastSequence = s.lastSequence();
            ps.lastTimestamp = s.lastTimestamp();
            ps.coordinatorEpoch = s.coordinatorEpoch();
            ps.currentTxnStartOffset = s.currentTxnFirstOffset();
            r.activeProducers.add(ps);
        }
        r.errorCode = Errors.NONE.code();
        return r;
    }
}
