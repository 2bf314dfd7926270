package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.broker.state.Topic;
import dev.runnel.broker.state.TopicManager;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.CreatePartitionsRequestData;
import dev.runnel.wire.message.CreatePartitionsRequestData.CreatePartitionsAssignment;
import dev.runnel.wire.message.CreatePartitionsRequestData.CreatePartitionsTopic;
import dev.runnel.wire.message.CreatePartitionsResponseData;
import dev.runnel.wire.message.CreatePartitionsResponseData.CreatePartitionsTopicResult;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * CreatePartitions (37), v0-3: grows topics to a new partition count. A count equal to or below the current one
 * gets INVALID_PARTITIONS with Kafka's messages; manual assignments must give one replica list per new
 * partition, each naming only this node (INVALID_REPLICA_ASSIGNMENT otherwise); a topic named twice in one
 * request gets INVALID_REQUEST. {@code validate_only} checks without adding anything.
 */
public final class CreatePartitionsHandler implements ApiHandler {
    private static final Logger LOG = LoggerFactory.getLogger(CreatePartitionsHandler.class);

    @Override
    public ApiKeys api() {
        return ApiKeys.CREATE_PARTITIONS;
    }

    @Override
    public short highestVersion() {
        return 3;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        CreatePartitionsRequestData req = (CreatePartitionsRequestData) request;
        Broker broker = ctx.broker();
        Map<String, Integer> counts = new HashMap<>();
        for (CreatePartitionsTopic t : req.topics) {
            counts.merge(t.name, 1, Integer::sum);
        }
        if (broker.cluster() != null && counts.values().stream().allMatch(c -> c == 1)) {
            // The active controller places the new partitions over the brokers.
            return dev.runnel.broker.cluster.ClusterTopicAdmin.createPartitions(broker.cluster(), req).thenApply(r -> (ApiMessage) r);
        }
        CreatePartitionsResponseData resp = new CreatePartitionsResponseData();
        Set<String> answered = new HashSet<>();
        int budget = CreateTopicsHandler.MAX_PARTITIONS_PER_REQUEST;
        for (CreatePartitionsTopic t : req.topics) {
            if (!answered.add(t.name)) {
                continue;
            }
            if (counts.get(t.name) > 1) {
                resp.results.add(result(t.name, Errors.INVALID_REQUEST, "Duplicate topic name."));
                continue;
            }
            Topic topic = broker.topics().get(t.name);
            int before = topic == null ? 0 : topic.partitionCount();
            CreatePartitionsTopicResult r = grow(broker, t, req.validateOnly, budget);
            if (r.errorCode == Errors.NONE.code()) {
                budget -= t.count - before;
            }
            resp.results.add(r);
        }
        return CompletableFuture.completedFuture(resp);
    }

    private static CreatePartitionsTopicResult grow(Broker broker, CreatePartitionsTopic t, boolean validateOnly, int budget) {
        TopicManager topics = broker.topics();
        Topic topic = topics.get(t.name);
        if (topic == null) {
            return result(t.name, Errors.UNKNOWN_TOPIC_OR_PARTITION, "The topic '" + t.name + "' does not exist.");
        }
        int current = topic.partitionCount();
        if (t.count == current) {
            return result(t.name, Errors.INVALID_PARTITIONS, "Topic already has " + current + " partition(s).");
        }
        if (t.count < current) {
            return result(t.name, Errors.INVALID_PARTITIONS, "The topic " + t.name + " currently has " + current
                    + " partition(s); " + t.count + " would not be an increase.");
        }
        int additional = t.count - current;
        if (t.assignments != null) {
            if (t.assignments.size() != additional) {
                return result(t.name, Errors.INVALID_REPLICA_ASSIGNMENT, "Attempted to add " + additional
                        + " additional partition(s), but only " + t.assignments.size() + " assignment(s) were specified.");
            }
            for (CreatePartitionsAssignment a : t.assignments) {
                // Every existing partition of a topic on this node has one replica.
                String bad = CreateTopicsHandler.assignmentProblem(broker.nodeId(), a.brokerIds, 1);
                if (bad != null) {
                    return result(t.name, Errors.INVALID_REPLICA_ASSIGNMENT, bad);
                }
            }
        }
        if (additional > budget) {
            return result(t.name, Errors.POLICY_VIOLATION, CreateTopicsHandler.TOO_LARGE);
        }
        TopicManager.Result r;
        try {
            r = topics.addPartitions(t.name, t.count, validateOnly);
        } catch (RuntimeException e) {
            LOG.error("Cannot add partitions to topic {}", t.name, e);
            return result(t.name, Errors.UNKNOWN_SERVER_ERROR, "Cannot add partitions to " + t.name + ": " + e.getMessage());
        }
        if (r.error() != Errors.NONE) {
            return result(t.name, r.error(), r.message());
        }
        return result(t.name, Errors.NONE, null);
    }

    private static CreatePartitionsTopicResult result(String name, Errors error, String message) {
        return new CreatePartitionsTopicResult().setName(name).setErrorCode(error.code()).setErrorMessage(message);
    }
}
