package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.broker.state.Partition;
import dev.runnel.broker.state.Topic;
import dev.runnel.broker.state.TopicConfigs;
import dev.runnel.metadata.image.MetadataImage;
import dev.runnel.metadata.image.PartitionRegistration;
import dev.runnel.metadata.image.TopicImage;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.DescribeTopicPartitionsRequestData;
import dev.runnel.wire.message.DescribeTopicPartitionsResponseData;
import dev.runnel.wire.message.DescribeTopicPartitionsResponseData.DescribeTopicPartitionsResponsePartition;
import dev.runnel.wire.message.DescribeTopicPartitionsResponseData.DescribeTopicPartitionsResponseTopic;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * DescribeTopicPartitions (75), v0: what Kafka 4.x's {@code kafka-topics --describe} and the admin client's
 * describeTopics use. Topics in name order (all of them when the request names none), partitions in index order,
 * at most {@code min(ResponsePartitionLimit, 2000)} partitions per answer, continued from {@code Cursor}, with
 * {@code NextCursor} naming where the next page starts (as KIP-966 pages them).
 */
public final class DescribeTopicPartitionsHandler implements ApiHandler {
    /** Kafka's max.request.partition.size.limit default. */
    static final int MAX_PARTITIONS = 2000;
    private static final UUID ZERO = new UUID(0, 0);

    @Override
    public ApiKeys api() {
        return ApiKeys.DESCRIBE_TOPIC_PARTITIONS;
    }

    @Override
    public short highestVersion() {
        return 0;
    }

    /** One partition as this handler reports it, whatever the node's mode. */
    private record PartitionState(int index, int leader, int leaderEpoch, List<Integer> replicas, List<Integer> isr,
                                  List<Integer> offline) {
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        DescribeTopicPartitionsRequestData req = (DescribeTopicPartitionsRequestData) request;
        Broker broker = ctx.broker();
        MetadataImage image = broker.cluster() == null ? null : broker.cluster().image();
        TreeSet<String> names = new TreeSet<>();
        boolean all = req.topics.isEmpty();
        if (all) {
            if (image != null) {
                names.addAll(image.topics().keySet());
            } else {
                for (Topic t : broker.topics().all()) {
                    if (!t.deleted()) {
                        names.add(t.name());
                    }
                }
            }
        } else {
            for (DescribeTopicPartitionsRequestData.TopicRequest t : req.topics) {
                names.add(t.name);
            }
        }
        DescribeTopicPartitionsResponseData resp = new DescribeTopicPartitionsResponseData();
        String startTopic = req.cursor == null ? null : req.cursor.topicName;
        int startPartition = req.cursor == null ? 0 : Math.max(0, req.cursor.partitionIndex);
        if (startTopic != null && !all && !names.contains(startTopic)) {
            // Kafka: the cursor's topic must be one of the requested topics.
            DescribeTopicPartitionsResponseTopic bad = new DescribeTopicPartitionsResponseTopic().setName(startTopic)
                    .setErrorCode(Errors.INVALID_REQUEST.code()).setTopicId(ZERO);
            resp.topics.add(bad);
            return CompletableFuture.completedFuture(resp);
        }
        int budget = Math.max(1, Math.min(req.responsePartitionLimit, MAX_PARTITIONS));
        for (String name : startTopic == null ? names : names.tailSet(startTopic, true)) {
            int first = name.equals(startTopic) ? startPartition : 0;
            DescribeTopicPartitionsResponseTopic rt = new DescribeTopicPartitionsResponseTopic().setName(name);
            UUID id = null;
            List<PartitionState> partitions = new ArrayList<>();
            if (image != null) {
                TopicImage t = image.topic(name);
                if (t != null) {
                    id = t.id();
                    for (PartitionRegistration p : t.partitions().values()) {
                        partitions.add(new PartitionState(p.partition(), p.leader(), p.leaderEpoch(), p.replicas(), p.isr(),
                                image.offlineReplicas(p)));
                    }
                }
            } else {
                Topic t = broker.topics().get(name);
                if (t != null && !t.deleted()) {
                    id = t.id();
                    for (Partition p : t.partitions()) {
                        partitions.add(new PartitionState(p.index(), p.leaderId(), p.leaderEpoch(), List.of(p.leaderId()),
                                List.of(p.leaderId()), List.of()));
                    }
                }
            }
            if (id == null) {
                resp.topics.add(rt.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code()).setTopicId(ZERO)
                        .setTopicAuthorizedOperations(AuthorizedOperations.TOPIC));
                continue;
            }
            // Kafka sets every listed topic's authorized operations; with no authorizer, all of them.
            rt.setTopicId(id).setIsInternal(TopicConfigs.isInternalTopicName(name)).setErrorCode(Errors.NONE.code())
                    .setTopicAuthorizedOperations(AuthorizedOperations.TOPIC);
            resp.topics.add(rt);
            for (PartitionState p : partitions) {
                if (p.index() < first) {
                    continue;
                }
                if (budget == 0) {
                    resp.setNextCursor(new DescribeTopicPartitionsResponseData.Cursor().setTopicName(name).setPartitionIndex(p.index()));
                    return CompletableFuture.completedFuture(resp);
                }
                budget--;
                rt.partitions.add(new DescribeTopicPartitionsResponsePartition().setPartitionIndex(p.index())
                        .setErrorCode(p.leader() < 0 ? Errors.LEADER_NOT_AVAILABLE.code() : Errors.NONE.code())
                        .setLeaderId(p.leader()).setLeaderEpoch(p.leaderEpoch()).setReplicaNodes(new ArrayList<>(p.replicas()))
                        .setIsrNodes(new ArrayList<>(p.isr())).setOfflineReplicas(new ArrayList<>(p.offline()))
                        // Kafka sends empty lists when there is no ELR (its admin client does not expect null here).
                        .setEligibleLeaderReplicas(new ArrayList<>()).setLastKnownElr(new ArrayList<>()));
            }
        }
        return CompletableFuture.completedFuture(resp);
    }
}
