package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.broker.state.Topic;
import dev.runnel.broker.state.TopicConfigs;
import dev.runnel.broker.state.TopicManager;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.IncrementalAlterConfigsRequestData;
import dev.runnel.wire.message.IncrementalAlterConfigsRequestData.AlterConfigsResource;
import dev.runnel.wire.message.IncrementalAlterConfigsRequestData.AlterableConfig;
import dev.runnel.wire.message.IncrementalAlterConfigsResponseData;
import dev.runnel.wire.message.IncrementalAlterConfigsResponseData.AlterConfigsResourceResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * IncrementalAlterConfigs (44), v0-1: SET, DELETE, APPEND and SUBTRACT on a topic's config overrides. The
 * resulting set is validated as a whole (Kafka's messages, INVALID_CONFIG) and applied to the topic's partition
 * logs at once; {@code validate_only} stops after validation. APPEND and SUBTRACT work on list configs only
 * ({@code cleanup.policy} and the throttled-replica lists), starting from the topic's current value.
 *
 * <p>A BROKER resource (this node's id, or "" for the cluster-wide default) changes Kafka's dynamic broker configs:
 * see {@link BrokerConfigChanges}.
 */
public final class IncrementalAlterConfigsHandler implements ApiHandler {
    private static final Logger LOG = LoggerFactory.getLogger(IncrementalAlterConfigsHandler.class);
    static final byte SET = 0;
    static final byte DELETE = 1;
    static final byte APPEND = 2;
    static final byte SUBTRACT = 3;
    private static final String[] OP_NAMES = {"SET", "DELETE", "APPEND", "SUBTRACT"};

    @Override
    public ApiKeys api() {
        return ApiKeys.INCREMENTAL_ALTER_CONFIGS;
    }

    @Override
    public short highestVersion() {
        return 1;
    }

    /** An outcome for one resource. */
    record Outcome(Errors error, String message, CompletableFuture<Outcome> later) {
        static final Outcome OK = new Outcome(Errors.NONE, null);

        Outcome(Errors error, String message) {
            this(error, message, null);
        }

        /** An outcome decided elsewhere (in a cluster: by the active controller). */
        static Outcome later(CompletableFuture<Outcome> f) {
            return new Outcome(Errors.NONE, null, f);
        }

        /** The final outcome, once any forwarded part has been answered. */
        CompletableFuture<Outcome> settled() {
            return later == null ? CompletableFuture.completedFuture(this) : later;
        }
    }

    /** Answers once every resource's outcome is settled (forwarded changes included). */
    static CompletableFuture<ApiMessage> respond(List<Outcome> outcomes, java.util.function.Function<List<Outcome>, ApiMessage> build) {
        CompletableFuture<?>[] all = outcomes.stream().map(Outcome::settled).toArray(CompletableFuture[]::new);
        return CompletableFuture.allOf(all).handle((v, e) -> build.apply(outcomes.stream().map(o -> o.settled().getNow(
                new Outcome(Errors.REQUEST_TIMED_OUT, "The controller did not answer in time"))).toList()));
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        IncrementalAlterConfigsRequestData req = (IncrementalAlterConfigsRequestData) request;
        Map<String, Integer> counts = new HashMap<>();
        for (AlterConfigsResource r : req.resources) {
            counts.merge(r.resourceType + "/" + r.resourceName, 1, Integer::sum);
        }
        List<Outcome> outcomes = new java.util.ArrayList<>();
        for (AlterConfigsResource r : req.resources) {
            outcomes.add(counts.get(r.resourceType + "/" + r.resourceName) > 1
                    ? new Outcome(Errors.INVALID_REQUEST, "Each resource must appear at most once.")
                    : alter(ctx.broker(), r, req.validateOnly));
        }
        return respond(outcomes, settled -> {
            IncrementalAlterConfigsResponseData resp = new IncrementalAlterConfigsResponseData();
            for (int i = 0; i < settled.size(); i++) {
                AlterConfigsResource r = req.resources.get(i);
                resp.responses.add(new AlterConfigsResourceResponse()
                        .setErrorCode(settled.get(i).error().code())
                        .setErrorMessage(settled.get(i).message())
                        .setResourceType(r.resourceType)
                        .setResourceName(r.resourceName));
            }
            return resp;
        });
    }

    private static Outcome alter(Broker broker, AlterConfigsResource r, boolean validateOnly) {
        Set<String> keys = new HashSet<>();
        for (AlterableConfig c : r.configs) {
            if (!keys.add(c.name)) {
                return new Outcome(Errors.INVALID_REQUEST, "Error due to duplicate config keys");
            }
            if (c.configOperation < SET || c.configOperation > SUBTRACT) {
                return new Outcome(Errors.INVALID_REQUEST, "Unknown operations type " + c.configOperation);
            }
            if (c.configOperation != DELETE && c.value == null) {
                return new Outcome(Errors.INVALID_REQUEST, "Null value not supported for : " + c.name);
            }
        }
        switch (r.resourceType) {
            case DescribeConfigsHandler.TOPIC: {
                Outcome found = findTopic(broker, r.resourceName);
                if (found != null) {
                    return found;
                }
                Topic t = broker.topics().get(r.resourceName);
                if (t == null) {
                    return new Outcome(Errors.UNKNOWN_TOPIC_OR_PARTITION, "The topic '" + r.resourceName + "' does not exist.");
                }
                Map<String, String> next = new TreeMap<>(t.configOverrides());
                for (AlterableConfig c : r.configs) {
                    switch (c.configOperation) {
                        case SET -> next.put(c.name, c.value);
                        case DELETE -> next.remove(c.name);
                        default -> {
                            TopicConfigs.Def def = TopicConfigs.def(c.name);
                            if (def == null || def.type() != TopicConfigs.Type.LIST) {
                                return new Outcome(Errors.INVALID_CONFIG, "Can't " + OP_NAMES[c.configOperation] + " to key "
                                        + c.name + " because its type is not LIST.");
                            }
                            String current = next.containsKey(c.name) ? next.get(c.name)
                                    : TopicConfigs.effectiveValue(broker.config(), next, c.name);
                            next.put(c.name, applyListOp(current, c.configOperation, c.value));
                        }
                    }
                }
                return replaceTopicConfigs(broker, t, next, validateOnly);
            }
            case DescribeConfigsHandler.BROKER:
                return BrokerConfigChanges.incremental(broker, r.resourceName, r.configs, validateOnly);
            default:
                return unsupportedType(r.resourceType);
        }
    }

    /** APPEND adds the comma-separated values not already present; SUBTRACT removes them. */
    static String applyListOp(String current, byte op, String values) {
        List<String> items = new ArrayList<>();
        for (String s : (current == null ? "" : current).split(",")) {
            if (!s.isEmpty()) {
                items.add(s);
            }
        }
        for (String v : values.split(",")) {
            if (op == APPEND) {
                if (!items.contains(v)) {
                    items.add(v);
                }
            } else {
                items.remove(v);
            }
        }
        return String.join(",", items);
    }

    /** Null when the topic exists, else the error for it. */
    static Outcome findTopic(Broker broker, String name) {
        String bad = TopicManager.invalidNameReason(name);
        if (bad != null) {
            return new Outcome(Errors.INVALID_TOPIC_EXCEPTION, bad);
        }
        if (broker.topics().get(name) == null) {
            return new Outcome(Errors.UNKNOWN_TOPIC_OR_PARTITION, "The topic '" + name + "' does not exist.");
        }
        return null;
    }

    /** Validates a topic's complete new set of overrides and, unless validating only, applies it. */
    static Outcome replaceTopicConfigs(Broker broker, Topic t, Map<String, String> overrides, boolean validateOnly) {
        String bad;
        try {
            bad = TopicConfigs.validate(broker.config(), overrides);
        } catch (IllegalArgumentException e) {
            bad = e.getMessage();
        }
        if (bad != null) {
            return new Outcome(Errors.INVALID_CONFIG, bad);
        }
        if (validateOnly) {
            return Outcome.OK;
        }
        Map<String, String> canonical = TopicConfigs.normalize(overrides);
        if (canonical.equals(t.configOverrides())) {
            return Outcome.OK;
        }
        if (broker.cluster() != null) {
            return Outcome.later(forwardTopicConfigs(broker, t.name(), t.configOverrides(), canonical));
        }
        try {
            broker.topics().setConfigs(t, canonical);
        } catch (RuntimeException e) {
            LOG.error("Cannot change the configs of topic {}", t.name(), e);
            return new Outcome(Errors.UNKNOWN_SERVER_ERROR, "Cannot change the configs of " + t.name() + ": " + e.getMessage());
        }
        LOG.info("Topic {} config overrides are now {}", t.name(), canonical);
        return Outcome.OK;
    }

    /**
     * In a cluster a topic's configs are metadata: the active controller writes the change (as SET and DELETE
     * operations computed here, where the configs were validated) and every node applies it.
     */
    private static CompletableFuture<Outcome> forwardTopicConfigs(Broker broker, String topic, Map<String, String> before,
                                                                  Map<String, String> after) {
        IncrementalAlterConfigsRequestData forward = new IncrementalAlterConfigsRequestData();
        AlterConfigsResource res = new AlterConfigsResource().setResourceType(DescribeConfigsHandler.TOPIC).setResourceName(topic);
        after.forEach((k, v) -> {
            if (!v.equals(before.get(k))) {
                res.configs.add(new AlterableConfig().setName(k).setConfigOperation(SET).setValue(v));
            }
        });
        for (String k : before.keySet()) {
            if (!after.containsKey(k)) {
                res.configs.add(new AlterableConfig().setName(k).setConfigOperation(DELETE).setValue(null));
            }
        }
        forward.resources.add(res);
        dev.runnel.broker.cluster.ClusterNode cluster = broker.cluster();
        return cluster.call(forward, new IncrementalAlterConfigsResponseData(), dev.runnel.broker.cluster.ClusterTopicAdmin.TIMEOUT_MS)
                .thenCompose(resp -> {
                    AlterConfigsResourceResponse r = resp.responses.get(0);
                    if (r.errorCode != 0) {
                        return CompletableFuture.completedFuture(new Outcome(Errors.forCode(r.errorCode), r.errorMessage));
                    }
                    return cluster.awaitImage(img -> after.equals(img.configs(dev.runnel.metadata.image.MetadataImage.TOPIC_CONFIG, topic)),
                            dev.runnel.broker.cluster.ClusterTopicAdmin.TIMEOUT_MS).thenApply(img -> {
                                LOG.info("Topic {} config overrides are now {}", topic, after);
                                return Outcome.OK;
                            });
                })
                .exceptionally(e -> new Outcome(Errors.REQUEST_TIMED_OUT, "The controller did not apply the change: " + e.getMessage()));
    }

    static Outcome unsupportedType(byte type) {
        return switch (type) {
            case DescribeConfigsHandler.BROKER_LOGGER, DescribeConfigsHandler.CLIENT_METRICS, DescribeConfigsHandler.GROUP ->
                    new Outcome(Errors.INVALID_REQUEST, "Runnel does not support altering configs of resource type " + type);
            default -> new Outcome(Errors.INVALID_REQUEST, "Unknown resource type " + type);
        };
    }
}
