package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.cluster.ClusterNode;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.DescribeQuorumRequestData;
import dev.runnel.wire.message.DescribeQuorumResponseData;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * DescribeQuorum (55), v0-2: the metadata quorum ({@code __cluster_metadata-0}) for
 * {@code kafka-metadata-quorum describe --status/--replication}. In a cluster the question goes to the active
 * controller, the only node that knows where every voter and observer is; v2 adds the voters' controller
 * endpoints. A single node is a quorum of one: itself, the leader.
 */
public final class DescribeQuorumHandler implements ApiHandler {
    private static final String METADATA_TOPIC = "__cluster_metadata";

    @Override
    public ApiKeys api() {
        return ApiKeys.DESCRIBE_QUORUM;
    }

    @Override
    public short highestVersion() {
        return 2;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        DescribeQuorumRequestData req = (DescribeQuorumRequestData) request;
        Broker broker = ctx.broker();
        boolean asksForMetadata = req.topics.size() == 1 && METADATA_TOPIC.equals(req.topics.get(0).topicName)
                && req.topics.get(0).partitions.size() == 1 && req.topics.get(0).partitions.get(0).partitionIndex == 0;
        if (!asksForMetadata) {
            return CompletableFuture.completedFuture(new DescribeQuorumResponseData().setErrorCode(Errors.INVALID_REQUEST.code())
                    .setErrorMessage("DescribeQuorum is only for " + METADATA_TOPIC + "-0"));
        }
        ClusterNode cluster = broker.cluster();
        if (cluster == null) {
            return CompletableFuture.completedFuture(singleNode(broker));
        }
        return cluster.call(new DescribeQuorumRequestData(), new DescribeQuorumResponseData(), 10_000).handle((resp, failure) -> {
            if (failure != null) {
                return new DescribeQuorumResponseData().setErrorCode(Errors.NOT_CONTROLLER.code())
                        .setErrorMessage("No active controller answered: " + failure.getMessage());
            }
            for (Map.Entry<Integer, InetSocketAddress> v : cluster.kraft().voters().entrySet()) {
                DescribeQuorumResponseData.Node n = new DescribeQuorumResponseData.Node().setNodeId(v.getKey());
                n.listeners.add(new DescribeQuorumResponseData.Listener()
                        .setName(cluster.kraft().controllerListener() != null ? cluster.kraft().controllerListener().name() : "CONTROLLER")
                        .setHost(v.getValue().getHostString()).setPort(v.getValue().getPort()));
                resp.nodes.add(n);
            }
            resp.setErrorMessage(null);
            return (ApiMessage) resp;
        });
    }

    private static DescribeQuorumResponseData singleNode(Broker broker) {
        long now = System.currentTimeMillis();
        DescribeQuorumResponseData resp = new DescribeQuorumResponseData().setErrorMessage(null);
        DescribeQuorumResponseData.TopicData t = new DescribeQuorumResponseData.TopicData().setTopicName(METADATA_TOPIC);
        DescribeQuorumResponseData.PartitionData p = new DescribeQuorumResponseData.PartitionData().setPartitionIndex(0)
                .setErrorMessage(null).setLeaderId(broker.nodeId()).setLeaderEpoch(1).setHighWatermark(0);
        p.currentVoters.add(new DescribeQuorumResponseData.ReplicaState().setReplicaId(broker.nodeId()).setLogEndOffset(0)
                .setLastFetchTimestamp(now).setLastCaughtUpTimestamp(now));
        t.partitions.add(p);
        resp.topics.add(t);
        DescribeQuorumResponseData.Node n = new DescribeQuorumResponseData.Node().setNodeId(broker.nodeId());
        n.listeners.add(new DescribeQuorumResponseData.Listener().setName("PLAINTEXT").setHost(broker.advertisedHost())
                .setPort(broker.advertisedPort()));
        resp.nodes.add(n);
        return resp;
    }
}
