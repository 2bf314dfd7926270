package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.broker.state.Partition;
import dev.runnel.broker.state.Topic;
import dev.runnel.broker.state.TopicManager;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.MetadataRequestData;
import dev.runnel.wire.message.MetadataResponseData;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * Metadata (3): this node as the only broker and controller, and the requested topics with this node as
 * leader and only replica. Unknown topics are auto-created when both the broker and the request allow it.
 */
public final class MetadataHandler implements ApiHandler {
    private static final UUID ZERO = new UUID(0, 0);

    @Override
    public ApiKeys api() {
        return ApiKeys.METADATA;
    }

    @Override
    public short highestVersion() {
        // v13 adds a top-level ErrorCode (KIP-1102: REBOOTSTRAP_REQUIRED); like Kafka's broker, this one has no
        // reason to set it and answers 0.
        return 13;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        MetadataRequestData req = (MetadataRequestData) request;
        Broker broker = ctx.broker();
        short version = ctx.apiVersion();
        if (broker.cluster() != null) {
            return ClusterMetadataResponder.handle(broker, req, version);
        }
        MetadataResponseData resp = new MetadataResponseData();
        resp.brokers.add(new MetadataResponseData.MetadataResponseBroker()
                .setNodeId(broker.nodeId())
                .setHost(broker.advertisedHost())
                .setPort(broker.advertisedPort())
                .setRack(null));
        resp.clusterId = broker.clusterId();
        resp.controllerId = broker.nodeId();

        boolean allTopics = req.topics == null || (version == 0 && req.topics.isEmpty());
        // Before v4 there is no flag: those clients always ask for auto-creation.
        boolean allowAutoCreate = version < 4 || req.allowAutoTopicCreation;
        TopicManager topics = broker.topics();
        if (allTopics) {
            for (Topic t : topics.all()) {
                resp.topics.add(describe(t, version));
            }
        } else {
            for (MetadataRequestData.MetadataRequestTopic rt : req.topics) {
                resp.topics.add(lookup(broker, rt, allowAutoCreate, version));
            }
        }
        if (version >= 8) {
            // As Kafka without an authorizer: every operation the resource supports (the cluster's only in v8-10).
            if (version <= 10 && req.includeClusterAuthorizedOperations) {
                resp.clusterAuthorizedOperations = AuthorizedOperations.CLUSTER;
            }
            if (req.includeTopicAuthorizedOperations) {
                for (MetadataResponseData.MetadataResponseTopic t : resp.topics) {
                    if (t.name != null) {
                        t.topicAuthorizedOperations = AuthorizedOperations.TOPIC;
                    }
                }
            }
        }
        return CompletableFuture.completedFuture(resp);
    }

    private MetadataResponseData.MetadataResponseTopic lookup(Broker broker, MetadataRequestData.MetadataRequestTopic rt,
                                                              boolean allowAutoCreate, short version) {
        TopicManager topics = broker.topics();
        if (rt.name == null) {
            Topic t = rt.topicId == null ? null : topics.get(rt.topicId);
            if (t == null) {
                return new MetadataResponseData.MetadataResponseTopic()
                        .setErrorCode(Errors.UNKNOWN_TOPIC_ID.code())
                        .setName(null)
                        .setTopicId(rt.topicId == null ? ZERO : rt.topicId);
            }
            return describe(t, version);
        }
        Topic t = topics.get(rt.name);
        if (t == null) {
            String bad = TopicManager.invalidNameReason(rt.name);
            if (bad != null) {
                return error(rt.name, Errors.INVALID_TOPIC_EXCEPTION);
            }
            if (allowAutoCreate && broker.config().autoCreateTopics()) {
                TopicManager.Result r = topics.create(rt.name, broker.config().numPartitions(), Map.of(), false, false);
                t = r.topic() != null ? r.topic() : topics.get(rt.name);
                if (t == null) {
                    return error(rt.name, r.error());
                }
            } else {
                return error(rt.name, Errors.UNKNOWN_TOPIC_OR_PARTITION);
            }
        }
        return describe(t, version);
    }

    private static MetadataResponseData.MetadataResponseTopic error(String name, Errors e) {
        return new MetadataResponseData.MetadataResponseTopic().setErrorCode(e.code()).setName(name).setIsInternal(false);
    }

    static MetadataResponseData.MetadataResponseTopic describe(Topic t, short version) {
        MetadataResponseData.MetadataResponseTopic mt = new MetadataResponseData.MetadataResponseTopic()
                .setErrorCode(Errors.NONE.code())
                .setName(t.name())
                .setTopicId(t.id())
                .setIsInternal(t.internal());
        List<MetadataResponseData.MetadataResponsePartition> parts = new ArrayList<>(t.partitionCount());
        for (Partition p : t.partitions()) {
            int node = p.leaderId();
            parts.add(new MetadataResponseData.MetadataResponsePartition()
                    .setErrorCode(Errors.NONE.code())
                    .setPartitionIndex(p.index())
                    .setLeaderId(node)
                    .setLeaderEpoch(p.leaderEpoch())
                    .setReplicaNodes(new ArrayList<>(List.of(node)))
                    .setIsrNodes(new ArrayList<>(List.of(node)))
                    .setOfflineReplicas(new ArrayList<>()));
        }
        mt.partitions = parts;
        return mt;
    }
}
