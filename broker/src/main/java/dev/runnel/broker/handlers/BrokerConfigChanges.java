package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.BrokerConfig;
import dev.runnel.broker.cluster.ClusterNode;
import dev.runnel.broker.cluster.ClusterTopicAdmin;
import dev.runnel.broker.config.BrokerConfigKeys;
import dev.runnel.broker.config.ConfigDef;
import dev.runnel.broker.handlers.IncrementalAlterConfigsHandler.Outcome;
import dev.runnel.metadata.image.MetadataImage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.IncrementalAlterConfigsRequestData;
import dev.runnel.wire.message.IncrementalAlterConfigsRequestData.AlterConfigsResource;
import dev.runnel.wire.message.IncrementalAlterConfigsRequestData.AlterableConfig;
import dev.runnel.wire.message.IncrementalAlterConfigsResponseData;
import java.io.IOException;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Changes to the dynamic configs of a BROKER resource (IncrementalAlterConfigs and the legacy AlterConfigs), as
 * Kafka's broker pre-processes them ({@code ConfigAdminManager}): the name must be "" (the cluster-wide default)
 * or this node's id (the admin client sends a per-broker change to that broker); the resulting set of dynamic
 * configs is checked as a whole ({@code DynamicBrokerConfig}: read-only keys, values, the configuration they make)
 * and refused with INVALID_REQUEST and Kafka's message; then it is stored: in a cluster as ConfigRecords through the
 * active controller (every broker applies the default, the named broker its own values), on a single node in
 * the log directory, and put in force at once.
 */
final class BrokerConfigChanges {
    private static final Logger LOG = LoggerFactory.getLogger(BrokerConfigChanges.class);

    private BrokerConfigChanges() {
    }

    /** IncrementalAlterConfigs: SET, DELETE, APPEND, SUBTRACT on the resource's current dynamic configs. */
    static Outcome incremental(Broker broker, String name, Iterable<AlterableConfig> ops, boolean validateOnly) {
        Outcome bad = checkName(broker, name);
        if (bad != null) {
            return bad;
        }
        Map<String, String> next = new TreeMap<>(stored(broker, name));
        for (AlterableConfig c : ops) {
            switch (c.configOperation) {
                case IncrementalAlterConfigsHandler.SET -> next.put(c.name, c.value);
                case IncrementalAlterConfigsHandler.DELETE -> next.remove(c.name);
                default -> {
                    ConfigDef.Key def = BrokerConfigKeys.key(c.name);
                    if (def == null) {
                        return new Outcome(Errors.INVALID_CONFIG, "Unknown config name: " + c.name);
                    }
                    if (def.type() != ConfigDef.Type.LIST) {
                        return new Outcome(Errors.INVALID_CONFIG, "Config value "
                                + (c.configOperation == IncrementalAlterConfigsHandler.APPEND ? "append" : "subtract")
                                + " is not allowed for config key: " + c.name);
                    }
                    String current = next.containsKey(c.name) ? next.get(c.name) : def.defaultValue();
                    next.put(c.name, IncrementalAlterConfigsHandler.applyListOp(current, c.configOperation, c.value));
                }
            }
        }
        return commit(broker, name, next, validateOnly);
    }

    /** The legacy AlterConfigs: the given configs replace the resource's dynamic configs. */
    static Outcome replace(Broker broker, String name, Map<String, String> configs, boolean validateOnly) {
        Outcome bad = checkName(broker, name);
        return bad != null ? bad : commit(broker, name, new TreeMap<>(configs), validateOnly);
    }

    private static Outcome checkName(Broker broker, String name) {
        if (name == null || name.isEmpty()) {
            return null;
        }
        int id;
        try {
            id = Integer.parseInt(name);
        } catch (NumberFormatException e) {
            return new Outcome(Errors.INVALID_REQUEST, "Node id must be an integer, but it is: " + name);
        }
        if (id != broker.nodeId()) {
            return new Outcome(Errors.INVALID_REQUEST, "Unexpected broker id, expected " + broker.nodeId() + ", but received " + name);
        }
        return null;
    }

    /** The dynamic configs stored now for the resource (the metadata image's in a cluster). */
    private static Map<String, String> stored(Broker broker, String name) {
        ClusterNode cluster = broker.cluster();
        if (cluster != null) {
            return cluster.image().configs(MetadataImage.BROKER_CONFIG, name);
        }
        BrokerConfig c = broker.config();
        return name.isEmpty() ? c.dynamicDefaultConfigs() : c.dynamicBrokerConfigs();
    }

    private static Outcome commit(Broker broker, String name, Map<String, String> next, boolean validateOnly) {
        boolean perBroker = !name.isEmpty();
        String problem = broker.dynamicConfig().problem(next, perBroker);
        if (problem != null) {
            return new Outcome(Errors.INVALID_REQUEST, problem);
        }
        Map<String, String> before = stored(broker, name);
        if (validateOnly || before.equals(next)) {
            return Outcome.OK;
        }
        ClusterNode cluster = broker.cluster();
        if (cluster != null) {
            return Outcome.later(forward(cluster, name, before, next));
        }
        try {
            broker.dynamicConfigStore().replace(perBroker ? broker.nodeId() : null, next);
        } catch (IOException e) {
            LOG.error("Cannot store the dynamic broker configs", e);
            return new Outcome(Errors.KAFKA_STORAGE_ERROR, "Cannot store the dynamic broker configs: " + e.getMessage());
        }
        BrokerConfig c = broker.config();
        broker.dynamicConfig().apply(perBroker ? c.dynamicDefaultConfigs() : next, perBroker ? next : c.dynamicBrokerConfigs());
        LOG.info("Dynamic broker configs of {} are now {}", perBroker ? "broker " + name : "the cluster default", next);
        return Outcome.OK;
    }

    /** The change as SET and DELETE operations to the active controller; answered once this node's image has it. */
    private static CompletableFuture<Outcome> forward(ClusterNode cluster, String name, Map<String, String> before, Map<String, String> after) {
        AlterConfigsResource res = new AlterConfigsResource().setResourceType(DescribeConfigsHandler.BROKER).setResourceName(name);
        after.forEach((k, v) -> {
            if (!v.equals(before.get(k))) {
                res.configs.add(new AlterableConfig().setName(k).setConfigOperation(IncrementalAlterConfigsHandler.SET).setValue(v));
            }
        });
        for (String k : before.keySet()) {
            if (!after.containsKey(k)) {
                res.configs.add(new AlterableConfig().setName(k).setConfigOperation(IncrementalAlterConfigsHandler.DELETE).setValue(null));
            }
        }
        IncrementalAlterConfigsRequestData forward = new IncrementalAlterConfigsRequestData();
        forward.resources.add(res);
        return cluster.call(forward, new IncrementalAlterConfigsResponseData(), ClusterTopicAdmin.TIMEOUT_MS)
                .thenCompose(resp -> {
                    var r = resp.responses.get(0);
                    if (r.errorCode != 0) {
                        return CompletableFuture.completedFuture(new Outcome(Errors.forCode(r.errorCode), r.errorMessage));
                    }
                    return cluster.awaitImage(img -> after.equals(img.configs(MetadataImage.BROKER_CONFIG, name)), ClusterTopicAdmin.TIMEOUT_MS)
                            .thenApply(img -> {
                                LOG.info("Dynamic broker configs of {} are now {}", name.isEmpty() ? "the cluster default" : "broker " + name, after);
                                return Outcome.OK;
                            });
                })
                .exceptionally(e -> new Outcome(Errors.REQUEST_TIMED_OUT, "The controller did not apply the change: " + e.getMessage()));
    }
}
