package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.cluster.ClusterNode;
import dev.runnel.broker.cluster.ClusterTopicAdmin;
import dev.runnel.broker.state.TopicConfigs;
import dev.runnel.broker.state.TopicManager;
import dev.runnel.metadata.image.BrokerRegistration;
import dev.runnel.metadata.image.MetadataImage;
import dev.runnel.metadata.image.PartitionRegistration;
import dev.runnel.metadata.image.TopicImage;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.MetadataRequestData;
import dev.runnel.wire.message.MetadataResponseData;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * Metadata (3) in a cluster: every live broker with its rack, the active controller, and each partition's leader,
 * replicas, in-sync replicas and offline replicas from the metadata image. Unknown topics are created through the
 * active controller when auto-creation is allowed, and described once this node has applied them.
 */
final class ClusterMetadataResponder {
    private static final UUID ZERO = new UUID(0, 0);

    private ClusterMetadataResponder() {
    }

    static CompletableFuture<ApiMessage> handle(Broker broker, MetadataRequestData req, short version) {
        ClusterNode cluster = broker.cluster();
        boolean allTopics = req.topics == null || (version == 0 && req.topics.isEmpty());
        boolean allowAutoCreate = version < 4 || req.allowAutoTopicCreation;
        List<CompletableFuture<Errors>> creations = new ArrayList<>();
        if (!allTopics && allowAutoCreate && broker.config().autoCreateTopics()) {
            MetadataImage img = cluster.image();
            for (MetadataRequestData.MetadataRequestTopic rt : req.topics) {
                if (rt.name != null && img.topic(rt.name) == null && TopicManager.invalidNameReason(rt.name) == null
                        && !TopicConfigs.isInternalTopicName(rt.name)) {
                    creations.add(ClusterTopicAdmin.ensureTopic(cluster, rt.name, broker.config().numPartitions(),
                            broker.config().defaultReplicationFactor(), Map.of()));
                }
            }
        }
        CompletableFuture<Void> all = CompletableFuture.allOf(creations.toArray(new CompletableFuture<?>[0]));
        return all.handle((v, failure) -> respond(broker, cluster.image(), req, version, allTopics));
    }

    private static ApiMessage respond(Broker broker, MetadataImage img, MetadataRequestData req, short version, boolean allTopics) {
        ClusterNode cluster = broker.cluster();
        MetadataResponseData resp = new MetadataResponseData();
        for (BrokerRegistration b : cluster.liveBrokers()) {
            BrokerRegistration.Endpoint e = cluster.endpoint(b);
            if (e == null) {
                continue;
            }
            resp.brokers.add(new MetadataResponseData.MetadataResponseBroker().setNodeId(b.id()).setHost(e.host()).setPort(e.port())
                    .setRack(b.rack().isEmpty() ? null : b.rack()));
        }
        resp.clusterId = img.clusterId();
        resp.controllerId = cluster.controllerIdForClients();
        if (allTopics) {
            for (TopicImage t : img.topics().values()) {
                resp.topics.add(describe(broker, img, t));
            }
        } else {
            for (MetadataRequestData.MetadataRequestTopic rt : req.topics) {
                TopicImage t = rt.name != null ? img.topic(rt.name) : (rt.topicId == null ? null : img.topic(rt.topicId));
                if (t != null) {
                    resp.topics.add(describe(broker, img, t));
                } else if (rt.name == null) {
                    resp.topics.add(new MetadataResponseData.MetadataResponseTopic().setErrorCode(Errors.UNKNOWN_TOPIC_ID.code())
                            .setName(null).setTopicId(rt.topicId == null ? ZERO : rt.topicId));
                } else {
                    Errors e = TopicManager.invalidNameReason(rt.name) != null ? Errors.INVALID_TOPIC_EXCEPTION : Errors.UNKNOWN_TOPIC_OR_PARTITION;
                    resp.topics.add(new MetadataResponseData.MetadataResponseTopic().setErrorCode(e.code()).setName(rt.name)
                            .setIsInternal(false));
                }
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
        return resp;
    }

    private static MetadataResponseData.MetadataResponseTopic describe(Broker broker, MetadataImage img, TopicImage t) {
        MetadataResponseData.MetadataResponseTopic mt = new MetadataResponseData.MetadataResponseTopic().setErrorCode(Errors.NONE.code())
                .setName(t.name()).setTopicId(t.id()).setIsInternal(TopicConfigs.isInternalTopicName(t.name()));
        List<MetadataResponseData.MetadataResponsePartition> parts = new ArrayList<>(t.partitionCount());
        for (PartitionRegistration p : t.partitions().values()) {
            parts.add(new MetadataResponseData.MetadataResponsePartition()
                    .setErrorCode(p.hasLeader() ? Errors.NONE.code() : Errors.LEADER_NOT_AVAILABLE.code())
                    .setPartitionIndex(p.partition())
                    .setLeaderId(p.leader())
                    .setLeaderEpoch(p.leaderEpoch())
                    .setReplicaNodes(new ArrayList<>(p.replicas()))
                    .setIsrNodes(new ArrayList<>(p.isr()))
                    .setOfflineReplicas(img.offlineReplicas(p)));
        }
        mt.partitions = parts;
        return mt;
    }
}
