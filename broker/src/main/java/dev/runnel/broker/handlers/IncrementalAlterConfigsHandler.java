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
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * IncrementalAlterConfigs (44), v0-1: SET, DELETE, APPEND and SUBTRACT on a topic's config overrides. The
 * resulting set is validated as a whole (Kafka's messages, INVALID_CONFIG) and applied to the topic's partition
 * logs at once; {@code validate_only} stops after validation. APPEND and SUBTRACT work on list configs only
 * ({@code cleanup.policy} and the throttled-replica lists), starting from the topic's current value.
 *
 * <p>Broker configs: Runnel has no dynamic broker configs (DescribeConfigs shows every broker config read-only),
 * so a BROKER resource that names this node (or "" for the cluster default) with any config change gets
 * INVALID_REQUEST "Cannot update these configs dynamically: [...]", the answer Kafka gives for its own read-only
 * broker configs. Keeping changes in memory only would make the broker and server.properties disagree after a
 * restart, and the broker-level values feed every topic's log settings; set them in server.properties instead.
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
    record Outcome(Errors error, String message) {
        static final Outcome OK = new Outcome(Errors.NONE, null);
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        IncrementalAlterConfigsRequestData req = (IncrementalAlterConfigsRequestData) request;
        Map<String, Integer> counts = new HashMap<>();
        for (AlterConfigsResource r : req.resources) {
            counts.merge(r.resourceType + "/" + r.resourceName, 1, Integer::sum);
        }
        IncrementalAlterConfigsResponseData resp = new IncrementalAlterConfigsResponseData();
        for (AlterConfigsResource r : req.resources) {
            Outcome o = counts.get(r.resourceType + "/" + r.resourceName) > 1
                    ? new Outcome(Errors.INVALID_REQUEST, "Each resource must appear at most once.")
                    : alter(ctx.broker(), r, req.validateOnly);
            resp.responses.add(new AlterConfigsResourceResponse()
                    .setErrorCode(o.error().code())
                    .setErrorMessage(o.message())
                    .setResourceType(r.resourceType)
                    .setResourceName(r.resourceName));
        }
        return CompletableFuture.completedFuture(resp);
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
                return alterBroker(broker, r.resourceName, keys);
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
        try {
            broker.topics().setConfigs(t, canonical);
        } catch (RuntimeException e) {
            LOG.error("Cannot change the configs of topic {}", t.name(), e);
            return new Outcome(Errors.UNKNOWN_SERVER_ERROR, "Cannot change the configs of " + t.name() + ": " + e.getMessage());
        }
        LOG.info("Topic {} config overrides are now {}", t.name(), canonical);
        return Outcome.OK;
    }

    /** Broker configs cannot change at runtime in Runnel; an empty change set is accepted. */
    static Outcome alterBroker(Broker broker, String name, Set<String> keys) {
        String bad = DescribeConfigsHandler.brokerResourceProblem(broker, name, true, "");
        if (bad != null) {
            return new Outcome(Errors.INVALID_REQUEST, bad.startsWith("Broker id must be") ? bad.replace("Broker id", "Node id") : bad);
        }
        if (keys.isEmpty()) {
            return Outcome.OK;
        }
        return new Outcome(Errors.INVALID_REQUEST, "Cannot update these configs dynamically: " + new TreeSet<>(keys)
                + " (Runnel reads broker configs from server.properties at startup)");
    }

    static Outcome unsupportedType(byte type) {
        return switch (type) {
            case DescribeConfigsHandler.BROKER_LOGGER, DescribeConfigsHandler.CLIENT_METRICS, DescribeConfigsHandler.GROUP ->
                    new Outcome(Errors.INVALID_REQUEST, "Runnel does not support altering configs of resource type " + type);
            default -> new Outcome(Errors.INVALID_REQUEST, "Unknown resource type " + type);
        };
    }
}
