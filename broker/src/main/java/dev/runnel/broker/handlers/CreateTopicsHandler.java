package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.broker.state.TopicConfigs;
import dev.runnel.broker.state.TopicManager;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.CreateTopicsRequestData;
import dev.runnel.wire.message.CreateTopicsRequestData.CreatableReplicaAssignment;
import dev.runnel.wire.message.CreateTopicsRequestData.CreatableTopic;
import dev.runnel.wire.message.CreateTopicsRequestData.CreatableTopicConfig;
import dev.runnel.wire.message.CreateTopicsResponseData;
import dev.runnel.wire.message.CreateTopicsResponseData.CreatableTopicConfigs;
import dev.runnel.wire.message.CreateTopicsResponseData.CreatableTopicResult;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * CreateTopics (19), v0-7. Each topic is checked as Kafka's controller checks it, in the same order (name,
 * existence, configs, assignment or replication factor and partition count) and gets its own error and message.
 * A partition count or replication factor of -1 means the broker's {@code num.partitions} /
 * {@code default.replication.factor}. This node is the only broker, so a replication factor above 1, or a
 * manual assignment naming another broker, is refused. A name given twice in one request gets INVALID_REQUEST.
 * v5+ answers with the partition count, replication factor and every topic config with its source; v7 adds the
 * topic id. {@code validate_only} runs every check and creates nothing.
 */
public final class CreateTopicsHandler implements ApiHandler {
    private static final Logger LOG = LoggerFactory.getLogger(CreateTopicsHandler.class);

    /** Kafka's controller refuses one operation that would write more records than this (one per partition). */
    static final int MAX_PARTITIONS_PER_REQUEST = 10_000;
    static final String TOO_LARGE = "Unable to perform excessively large batch operation.";
    private static final String METADATA_TOPIC = "__cluster_metadata";

    @Override
    public ApiKeys api() {
        return ApiKeys.CREATE_TOPICS;
    }

    @Override
    public short highestVersion() {
        return 7;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        CreateTopicsRequestData req = (CreateTopicsRequestData) request;
        Broker broker = ctx.broker();
        boolean validateOnly = ctx.apiVersion() >= 1 && req.validateOnly;

        Map<String, Integer> counts = new HashMap<>();
        for (CreatableTopic t : req.topics) {
            counts.merge(t.name, 1, Integer::sum);
        }
        if (broker.cluster() != null) {
            return inCluster(broker, req, counts, validateOnly);
        }
        CreateTopicsResponseData resp = new CreateTopicsResponseData();
        Set<String> answered = new HashSet<>();
        int partitionBudget = MAX_PARTITIONS_PER_REQUEST;
        for (CreatableTopic t : req.topics) {
            if (!answered.add(t.name)) {
                continue; // a duplicate gets one answer
            }
            CreatableTopicResult r;
            if (counts.get(t.name) > 1) {
                r = error(t.name, Errors.INVALID_REQUEST, "Duplicate topic name.");
            } else if (METADATA_TOPIC.equals(t.name)) {
                r = error(t.name, Errors.INVALID_REQUEST, "Creation of internal topic " + METADATA_TOPIC + " is prohibited.");
            } else {
                r = create(broker, t, validateOnly, partitionBudget);
                if (r.errorCode == Errors.NONE.code()) {
                    partitionBudget -= r.numPartitions;
                }
            }
            resp.topics.add(r);
        }
        return CompletableFuture.completedFuture(resp);
    }

    /**
     * In a cluster the active controller decides (name, existence, placement over the brokers, replication factor);
     * what only this request can tell (duplicates, null config values) is answered here.
     */
    private static CompletableFuture<ApiMessage> inCluster(Broker broker, CreateTopicsRequestData req, Map<String, Integer> counts,
                                                           boolean validateOnly) {
        Map<String, CreatableTopicResult> local = new java.util.LinkedHashMap<>();
        CreateTopicsRequestData forward = new CreateTopicsRequestData().settimeoutMs(req.timeoutMs).setvalidateOnly(validateOnly);
        List<String> order = new ArrayList<>();
        for (CreatableTopic t : req.topics) {
            if (order.contains(t.name)) {
                continue;
            }
            order.add(t.name);
            if (counts.get(t.name) > 1) {
                local.put(t.name, error(t.name, Errors.INVALID_REQUEST, "Duplicate topic name."));
                continue;
            }
            if (METADATA_TOPIC.equals(t.name)) {
                local.put(t.name, error(t.name, Errors.INVALID_REQUEST, "Creation of internal topic " + METADATA_TOPIC + " is prohibited."));
                continue;
            }
            Map<String, String> overrides = new LinkedHashMap<>();
            // A bad name is the controller's to report (it checks names first, as Kafka's does).
            CreatableTopicResult badConfig = TopicManager.invalidNameReason(t.name) == null ? readConfigs(broker, t, overrides) : null;
            if (badConfig != null) {
                local.put(t.name, badConfig);
                continue;
            }
            CreatableTopic f = new CreatableTopic().setName(t.name).setNumPartitions(t.numPartitions)
                    .setReplicationFactor(t.replicationFactor).setAssignments(t.assignments);
            TopicConfigs.normalize(overrides).forEach((k, v) -> f.configs.add(new CreatableTopicConfig().setName(k).setValue(v)));
            forward.topics.add(f);
        }
        CompletableFuture<CreateTopicsResponseData> remote = forward.topics.isEmpty()
                ? CompletableFuture.completedFuture(new CreateTopicsResponseData())
                : dev.runnel.broker.cluster.ClusterTopicAdmin.createTopics(broker.cluster(), forward);
        return remote.handle((r, failure) -> {
            CreateTopicsResponseData resp = new CreateTopicsResponseData();
            Map<String, CreatableTopicResult> byName = new java.util.HashMap<>();
            if (r != null) {
                for (CreatableTopicResult x : r.topics) {
                    if (x.errorCode == Errors.NONE.code()) {
                        x.setErrorMessage(null);
                        x.topicConfigErrorCode = Errors.NONE.code();
                    }
                    byName.put(x.name, x);
                }
            }
            for (String name : order) {
                CreatableTopicResult x = local.get(name);
                if (x == null) {
                    x = byName.get(name);
                }
                if (x == null) {
                    x = error(name, Errors.REQUEST_TIMED_OUT, "The controller did not answer in time: "
                            + (failure == null ? "no answer" : failure.getMessage()));
                }
                resp.topics.add(x);
            }
            return (ApiMessage) resp;
        });
    }

    private static CreatableTopicResult create(Broker broker, CreatableTopic t, boolean validateOnly, int partitionBudget) {
        TopicManager topics = broker.topics();
        String badName = TopicManager.invalidNameReason(t.name);
        if (badName != null) {
            return error(t.name, Errors.INVALID_TOPIC_EXCEPTION, badName);
        }
        if (topics.get(t.name) != null) {
            return error(t.name, Errors.TOPIC_ALREADY_EXISTS, "Topic '" + t.name + "' already exists.");
        }

        Map<String, String> overrides = new LinkedHashMap<>();
        CreatableTopicResult badConfig = readConfigs(broker, t, overrides);
        if (badConfig != null) {
            return badConfig;
        }

        int partitions;
        short replicationFactor;
        if (!t.assignments.isEmpty()) {
            if (t.replicationFactor != -1) {
                return error(t.name, Errors.INVALID_REQUEST,
                        "A manual partition assignment was specified, but replication factor was not set to -1.");
            }
            if (t.numPartitions != -1) {
                return error(t.name, Errors.INVALID_REQUEST,
                        "A manual partition assignment was specified, but numPartitions was not set to -1.");
            }
            Set<Integer> seen = new HashSet<>();
            int rf = -1;
            for (CreatableReplicaAssignment a : t.assignments) {
                if (!seen.add(a.partitionIndex)) {
                    return error(t.name, Errors.INVALID_REPLICA_ASSIGNMENT,
                            "Found multiple manual partition assignments for partition " + a.partitionIndex);
                }
                String bad = assignmentProblem(broker.nodeId(), a.brokerIds, rf);
                if (bad != null) {
                    return error(t.name, Errors.INVALID_REPLICA_ASSIGNMENT, bad);
                }
                rf = a.brokerIds.size();
            }
            for (int i = 0; i < seen.size(); i++) {
                if (!seen.contains(i)) {
                    return error(t.name, Errors.INVALID_REPLICA_ASSIGNMENT, "partitions should be a consecutive 0-based integer sequence");
                }
            }
            partitions = seen.size();
            replicationFactor = (short) rf;
        } else {
            if (t.replicationFactor < -1 || t.replicationFactor == 0) {
                return error(t.name, Errors.INVALID_REPLICATION_FACTOR,
                        "Replication factor must be larger than 0, or -1 to use the default value.");
            }
            if (t.numPartitions < -1 || t.numPartitions == 0) {
                return error(t.name, Errors.INVALID_PARTITIONS, "Number of partitions was set to an invalid non-positive value.");
            }
            partitions = t.numPartitions == -1 ? broker.config().numPartitions() : t.numPartitions;
            replicationFactor = t.replicationFactor == -1 ? broker.config().defaultReplicationFactor() : t.replicationFactor;
            if (replicationFactor > 1) {
                return error(t.name, Errors.INVALID_REPLICATION_FACTOR, cannotReplicate(replicationFactor));
            }
        }
        if (partitions > partitionBudget) {
            return error(t.name, Errors.POLICY_VIOLATION, TOO_LARGE);
        }

        Map<String, String> canonical = TopicConfigs.normalize(overrides);
        TopicManager.Result result;
        try {
            result = topics.create(t.name, partitions, canonical, TopicConfigs.isInternalTopicName(t.name), validateOnly);
        } catch (RuntimeException e) {
            LOG.error("Cannot create topic {}", t.name, e);
            return error(t.name, Errors.UNKNOWN_SERVER_ERROR, "Cannot create topic " + t.name + ": " + e.getMessage());
        }
        if (result.error() != Errors.NONE) {
            return error(t.name, result.error(), result.message());
        }
        CreatableTopicResult ok = new CreatableTopicResult()
                .setName(t.name)
                .setTopicId(result.topic().id())
                .setErrorCode(Errors.NONE.code())
                .setErrorMessage(null)
                .setNumPartitions(partitions)
                .setReplicationFactor(replicationFactor);
        ok.topicConfigErrorCode = Errors.NONE.code();
        List<CreatableTopicConfigs> configs = new ArrayList<>();
        for (TopicConfigs.ConfigValue v : TopicConfigs.describeAll(broker.config(), canonical)) {
            configs.add(new CreatableTopicConfigs()
                    .setName(v.name())
                    .setValue(v.sensitive() ? null : v.value())
                    .setReadOnly(v.readOnly())
                    .setConfigSource(v.source().id)
                    .setIsSensitive(v.sensitive()));
        }
        ok.configs = configs;
        return ok;
    }

    /**
     * Reads a topic's config overrides into {@code out}; the INVALID_CONFIG answer when a value is null or not
     * acceptable, else null.
     */
    private static CreatableTopicResult readConfigs(Broker broker, CreatableTopic t, Map<String, String> out) {
        Set<String> nullConfigs = new TreeSet<>();
        for (CreatableTopicConfig c : t.configs) {
            if (c.value == null) {
                nullConfigs.add(c.name);
            } else {
                out.put(c.name, c.value);
            }
        }
        if (!nullConfigs.isEmpty()) {
            return error(t.name, Errors.INVALID_CONFIG, "Null value not supported for topic configs: " + String.join(",", nullConfigs));
        }
        String badConfig;
        try {
            badConfig = TopicConfigs.validate(broker.config(), out);
        } catch (IllegalArgumentException e) {
            badConfig = e.getMessage(); // the broker's own log.* settings are broken
        }
        return badConfig == null ? null : error(t.name, Errors.INVALID_CONFIG, badConfig);
    }

    /** Kafka's message when the cluster has too few brokers for a replication factor (this cluster has one). */
    static String cannotReplicate(int replicationFactor) {
        return "Unable to replicate the partition " + replicationFactor + " time(s): The target replication factor of "
                + replicationFactor + " cannot be reached because only 1 broker(s) are registered.";
    }

    /**
     * Why a manual replica list is unacceptable on this one-node cluster, or null. {@code expectedReplicas} is the
     * size of the previous lists (-1 for the first).
     */
    static String assignmentProblem(int nodeId, List<Integer> brokerIds, int expectedReplicas) {
        if (brokerIds == null || brokerIds.isEmpty()) {
            return "The manual partition assignment includes an empty replica list.";
        }
        List<Integer> sorted = new ArrayList<>(brokerIds);
        sorted.sort(Integer::compare);
        Integer previous = null;
        for (Integer id : sorted) {
            if (id == null || id != nodeId) {
                return "The manual partition assignment includes broker " + id + ", but no such broker is registered.";
            }
            if (id.equals(previous)) {
                return "The manual partition assignment includes the broker " + id + " more than once.";
            }
            previous = id;
        }
        if (expectedReplicas >= 0 && sorted.size() != expectedReplicas) {
            return "The manual partition assignment includes a partition with " + sorted.size() + " replica(s), but this is "
                    + "not consistent with previous partitions, which have " + expectedReplicas + " replica(s).";
        }
        return null;
    }

    private static CreatableTopicResult error(String name, Errors error, String message) {
        return new CreatableTopicResult()
                .setName(name)
                .setErrorCode(error.code())
                .setErrorMessage(message);
    }
}
