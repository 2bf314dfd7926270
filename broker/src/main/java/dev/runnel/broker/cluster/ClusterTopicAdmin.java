package dev.runnel.broker.cluster;

import dev.runnel.metadata.image.MetadataImage;
import dev.runnel.metadata.image.TopicImage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.CreatePartitionsRequestData;
import dev.runnel.wire.message.CreatePartitionsResponseData;
import dev.runnel.wire.message.CreateTopicsRequestData;
import dev.runnel.wire.message.CreateTopicsResponseData;
import dev.runnel.wire.message.DeleteTopicsRequestData;
import dev.runnel.wire.message.DeleteTopicsResponseData;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * Topic changes in a cluster: forwarded to the active controller (Kafka forwards them too), answered once the
 * controller committed them and this node applied them, so that a client that created a topic through any broker
 * finds it there at once.
 */
public final class ClusterTopicAdmin {
    /** How long a forwarded change may take (a controller election included). */
    public static final long TIMEOUT_MS = 30_000;

    private ClusterTopicAdmin() {
    }

    public static CompletableFuture<CreateTopicsResponseData> createTopics(ClusterNode node, CreateTopicsRequestData req) {
        return node.call(req, new CreateTopicsResponseData(), TIMEOUT_MS).thenCompose(resp -> {
            if (req.validateOnly) {
                return CompletableFuture.completedFuture(resp);
            }
            Map<String, UUID> created = new java.util.HashMap<>();
            for (CreateTopicsResponseData.CreatableTopicResult r : resp.topics) {
                if (r.errorCode == Errors.NONE.code()) {
                    created.put(r.name, r.topicId);
                }
            }
            return node.awaitImage(img -> created.entrySet().stream().allMatch(e -> {
                TopicImage t = img.topic(e.getKey());
                return t != null && t.id().equals(e.getValue());
            }), TIMEOUT_MS).thenApply(img -> resp);
        });
    }

    /** Creates one topic the broker needs (auto-creation, {@code __consumer_offsets}); TOPIC_ALREADY_EXISTS is success. */
    public static CompletableFuture<Errors> ensureTopic(ClusterNode node, String name, int partitions, short replicationFactor,
                                                        Map<String, String> configs) {
        if (node.image().topic(name) != null) {
            return CompletableFuture.completedFuture(Errors.NONE);
        }
        CreateTopicsRequestData.CreatableTopic t = new CreateTopicsRequestData.CreatableTopic().setName(name)
                .setNumPartitions(partitions).setReplicationFactor(replicationFactor);
        configs.forEach((k, v) -> t.configs.add(new CreateTopicsRequestData.CreatableTopicConfig().setName(k).setValue(v)));
        CreateTopicsRequestData req = new CreateTopicsRequestData().settimeoutMs((int) TIMEOUT_MS);
        req.topics.add(t);
        return createTopics(node, req).thenCompose(resp -> {
            Errors e = Errors.forCode(resp.topics.get(0).errorCode);
            if (e == Errors.TOPIC_ALREADY_EXISTS) {
                return node.awaitImage(img -> img.topic(name) != null, TIMEOUT_MS).thenApply(img -> Errors.NONE);
            }
            return CompletableFuture.completedFuture(e);
        });
    }

    public static CompletableFuture<DeleteTopicsResponseData> deleteTopics(ClusterNode node, DeleteTopicsRequestData req) {
        return node.call(req, new DeleteTopicsResponseData(), TIMEOUT_MS).thenCompose(resp -> {
            java.util.Set<UUID> deleted = new java.util.HashSet<>();
            for (DeleteTopicsResponseData.DeletableTopicResult r : resp.responses) {
                if (r.errorCode == Errors.NONE.code()) {
                    deleted.add(r.topicId);
                }
            }
            return node.awaitImage(img -> deleted.stream().noneMatch(id -> img.topic(id) != null), TIMEOUT_MS).thenApply(img -> resp);
        });
    }

    public static CompletableFuture<CreatePartitionsResponseData> createPartitions(ClusterNode node, CreatePartitionsRequestData req) {
        MetadataImage before = node.image();
        return node.call(req, new CreatePartitionsResponseData(), TIMEOUT_MS).thenCompose(resp -> {
            if (req.validateOnly) {
                return CompletableFuture.completedFuture(resp);
            }
            Map<String, Integer> grown = new java.util.HashMap<>();
            for (int i = 0; i < resp.results.size(); i++) {
                if (resp.results.get(i).errorCode == Errors.NONE.code()) {
                    grown.put(resp.results.get(i).name, req.topics.get(i).count);
                }
            }
            return node.awaitImage(img -> grown.entrySet().stream().allMatch(e -> img.topic(e.getKey()) != null
                    && img.topic(e.getKey()).partitionCount() >= e.getValue()), TIMEOUT_MS).thenApply(img -> resp);
        });
    }
}
