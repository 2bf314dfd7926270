package dev.runnel.broker.handlers;

import dev.runnel.broker.Broker;
import dev.runnel.broker.BrokerConfig;
import dev.runnel.broker.config.BrokerConfigKeys;
import dev.runnel.broker.network.RequestContext;
import dev.runnel.broker.state.Topic;
import dev.runnel.broker.state.TopicConfigs;
import dev.runnel.broker.state.TopicConfigs.ConfigValue;
import dev.runnel.broker.state.TopicConfigs.Source;
import dev.runnel.broker.state.TopicConfigs.Synonym;
import dev.runnel.broker.state.TopicConfigs.Type;
import dev.runnel.broker.state.TopicManager;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.Errors;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.DescribeConfigsRequestData;
import dev.runnel.wire.message.DescribeConfigsRequestData.DescribeConfigsResource;
import dev.runnel.wire.message.DescribeConfigsResponseData;
import dev.runnel.wire.message.DescribeConfigsResponseData.DescribeConfigsResourceResult;
import dev.runnel.wire.message.DescribeConfigsResponseData.DescribeConfigsResult;
import dev.runnel.wire.message.DescribeConfigsResponseData.DescribeConfigsSynonym;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * DescribeConfigs (32), v0-4, for TOPIC and BROKER resources (and BROKER_LOGGER, which has nothing to show).
 *
 * <p>A topic shows every Kafka topic config with its effective value and source: TOPIC_CONFIG for an override,
 * STATIC_BROKER_CONFIG when a {@code server.properties} key decides it, DEFAULT_CONFIG otherwise; synonyms
 * (v1+, on request) list the override and the broker keys behind it, as Kafka does.
 *
 * <p>A broker (resource name = this node's id) shows the configuration in force: {@code server.properties} keys,
 * Runnel's defaults, the broker-level keys behind topic configs and the dynamic broker configs, with Kafka's
 * sources (DYNAMIC_BROKER_CONFIG, DYNAMIC_DEFAULT_BROKER_CONFIG, STATIC_BROKER_CONFIG, DEFAULT_CONFIG); a key is
 * read-only unless it is dynamic. The cluster-wide default resource (name "") shows the dynamic defaults. Another
 * broker id, or a name that is not a number, gets INVALID_REQUEST with Kafka's message.
 *
 * <p>Documentation (v3+, on request) is a short text of Runnel's for topic configs, null for broker keys.
 */
public final class DescribeConfigsHandler implements ApiHandler {
    static final byte TOPIC = 2;
    static final byte BROKER = 4;
    static final byte BROKER_LOGGER = 8;
    static final byte CLIENT_METRICS = 16;
    static final byte GROUP = 32;

    /** Types of the broker keys Runnel knows, for DescribeConfigs v3+; others are UNKNOWN, as Kafka reports keys it does not define. */
    private static final Map<String, Type> BROKER_TYPES = Map.ofEntries(
            Map.entry("node.id", Type.INT), Map.entry("broker.id", Type.INT), Map.entry("listeners", Type.LIST),
            Map.entry("advertised.listeners", Type.LIST), Map.entry("log.dirs", Type.LIST), Map.entry("log.dir", Type.STRING),
            Map.entry("num.partitions", Type.INT), Map.entry("default.replication.factor", Type.INT),
            Map.entry("auto.create.topics.enable", Type.BOOLEAN), Map.entry("socket.request.max.bytes", Type.INT),
            Map.entry("group.initial.rebalance.delay.ms", Type.INT), Map.entry("offsets.topic.num.partitions", Type.INT),
            Map.entry("offsets.topic.replication.factor", Type.SHORT), Map.entry("transaction.state.log.replication.factor", Type.SHORT),
            Map.entry("transaction.state.log.min.isr", Type.INT), Map.entry("delete.topic.enable", Type.BOOLEAN),
            Map.entry("process.roles", Type.LIST), Map.entry("controller.quorum.voters", Type.LIST),
            Map.entry("controller.listener.names", Type.STRING), Map.entry("listener.security.protocol.map", Type.STRING),
            Map.entry("inter.broker.listener.name", Type.STRING), Map.entry("num.network.threads", Type.INT),
            Map.entry("num.io.threads", Type.INT), Map.entry("socket.send.buffer.bytes", Type.INT),
            Map.entry("socket.receive.buffer.bytes", Type.INT), Map.entry("num.recovery.threads.per.data.dir", Type.INT),
            Map.entry("log.retention.check.interval.ms", Type.LONG), Map.entry("group.min.session.timeout.ms", Type.INT),
            Map.entry("group.max.session.timeout.ms", Type.INT));

    @Override
    public ApiKeys api() {
        return ApiKeys.DESCRIBE_CONFIGS;
    }

    @Override
    public short highestVersion() {
        return 4;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext ctx, ApiMessage request) {
        DescribeConfigsRequestData req = (DescribeConfigsRequestData) request;
        short version = ctx.apiVersion();
        boolean synonyms = version >= 1 && req.includeSynonyms;
        boolean docs = version >= 3 && req.includeDocumentation;
        DescribeConfigsResponseData resp = new DescribeConfigsResponseData();
        for (DescribeConfigsResource res : req.resources) {
            DescribeConfigsResult r;
            try {
                r = describe(ctx.broker(), res, synonyms, docs);
            } catch (IllegalArgumentException e) {
                // A broker-level setting behind a topic config is unusable; say so instead of dropping the connection.
                r = error(Errors.INVALID_CONFIG, e.getMessage());
            }
            r.resourceType = res.resourceType;
            r.resourceName = res.resourceName;
            resp.results.add(r);
        }
        return CompletableFuture.completedFuture(resp);
    }

    private static DescribeConfigsResult describe(Broker broker, DescribeConfigsResource res, boolean synonyms, boolean docs) {
        List<String> keys = res.configurationKeys == null || res.configurationKeys.isEmpty() ? null : res.configurationKeys;
        switch (res.resourceType) {
            case TOPIC: {
                String bad = TopicManager.invalidNameReason(res.resourceName);
                if (bad != null) {
                    return error(Errors.INVALID_TOPIC_EXCEPTION, bad);
                }
                Topic t = broker.topics().get(res.resourceName);
                if (t == null) {
                    return error(Errors.UNKNOWN_TOPIC_OR_PARTITION, "This server does not host this topic-partition.");
                }
                List<ConfigValue> values = new ArrayList<>();
                for (String name : TopicConfigs.defs().keySet()) {
                    if (keys == null || keys.contains(name)) {
                        values.add(TopicConfigs.describe(broker.config(), t.configOverrides(), name));
                    }
                }
                return ok(values, synonyms, docs);
            }
            case BROKER: {
                String bad = brokerResourceProblem(broker, res.resourceName, true, " or empty string");
                if (bad != null) {
                    return error(Errors.INVALID_REQUEST, bad);
                }
                List<ConfigValue> values = new ArrayList<>();
                List<ConfigValue> all = res.resourceName.isEmpty() ? clusterDefaultConfigs(broker.config()) : brokerConfigs(broker.config());
                for (ConfigValue v : all) {
                    if (keys == null || keys.contains(v.name())) {
                        values.add(v);
                    }
                }
                return ok(values, synonyms, docs);
            }
            case BROKER_LOGGER: {
                if (res.resourceName == null || res.resourceName.isEmpty()) {
                    return error(Errors.INVALID_REQUEST, "Broker id must not be empty");
                }
                String bad = brokerResourceProblem(broker, res.resourceName, false, "");
                return bad != null ? error(Errors.INVALID_REQUEST, bad) : ok(List.of(), synonyms, docs);
            }
            case CLIENT_METRICS:
            case GROUP:
                return error(Errors.INVALID_REQUEST, "Runnel does not support configs of resource type "
                        + (res.resourceType == GROUP ? "GROUP" : "CLIENT_METRICS"));
            default:
                return error(Errors.INVALID_REQUEST, "Unsupported resource type: " + res.resourceType);
        }
    }

    /**
     * Why a BROKER resource name does not name this node (Kafka's wording), or null. {@code allowEmpty} accepts ""
     * (the cluster-wide default); {@code expectedSuffix} is appended to "expected N" in the message.
     */
    static String brokerResourceProblem(Broker broker, String name, boolean allowEmpty, String expectedSuffix) {
        if (name == null || name.isEmpty()) {
            return allowEmpty ? null : "Broker id must not be empty";
        }
        int id;
        try {
            id = Integer.parseInt(name);
        } catch (NumberFormatException e) {
            return "Broker id must be an integer, but it is: " + name;
        }
        if (id != broker.nodeId()) {
            return "Unexpected broker id, expected " + broker.nodeId() + expectedSuffix + ", but received " + name;
        }
        return null;
    }

    /**
     * This broker's configs: the configuration in force (server.properties, Runnel's defaults and the dynamic
     * configs), {@code broker.id} (as KRaft Kafka shows it, equal to node.id), and the broker keys behind topic
     * configs with Kafka's defaults. Each with its synonyms in Kafka's order (this broker's dynamic value, the
     * cluster-wide one, server.properties, the default; for log.retention.ms also .minutes and .hours) and the source
     * of the first; read-only unless the key is dynamic.
     */
    static List<ConfigValue> brokerConfigs(BrokerConfig config) {
        Map<String, String> values = new LinkedHashMap<>(config.all());
        values.putIfAbsent("broker.id", config.get("node.id"));
        TopicConfigs.brokerSynonymDefaults().forEach(values::putIfAbsent);
        List<ConfigValue> out = new ArrayList<>(values.size());
        values.forEach((key, value) -> out.add(brokerEntry(config, key, value, true)));
        return out;
    }

    /** The cluster-wide dynamic configs (resource name ""), each with its DYNAMIC_DEFAULT_BROKER_CONFIG synonyms. */
    static List<ConfigValue> clusterDefaultConfigs(BrokerConfig config) {
        List<ConfigValue> out = new ArrayList<>();
        new java.util.TreeMap<>(config.dynamicDefaultConfigs()).forEach((key, value) -> out.add(brokerEntry(config, key, value, false)));
        return out;
    }

    private static ConfigValue brokerEntry(BrokerConfig config, String key, String value, boolean perBroker) {
        boolean sensitive = isSensitive(key);
        List<Synonym> syns = new ArrayList<>(3);
        List<String> group = BrokerConfig.synonymGroup(key);
        if (perBroker) {
            for (String k : group) {
                addSynonym(syns, k, config.dynamicBrokerConfigs().get(k), Source.DYNAMIC_BROKER_CONFIG, sensitive);
            }
        }
        for (String k : group) {
            addSynonym(syns, k, config.dynamicDefaultConfigs().get(k), Source.DYNAMIC_DEFAULT_BROKER_CONFIG, sensitive);
        }
        if (perBroker) {
            for (String k : group) {
                String v = config.staticValue(k);
                if (v == null && k.equals("broker.id")) {
                    v = config.staticValue("node.id"); // KRaft Kafka: broker.id is node.id
                }
                addSynonym(syns, k, v, Source.STATIC_BROKER_CONFIG, sensitive);
            }
            for (String k : group) {
                String dflt = k.equals("broker.id") ? BrokerConfig.presetDefault("node.id") : TopicConfigs.brokerDefault(k);
                if (dflt == null && k.equals(key) && syns.isEmpty() && value != null) {
                    dflt = value; // a key without a default of Runnel's or Kafka's, shown as it is
                }
                addSynonym(syns, k, dflt, Source.DEFAULT_CONFIG, sensitive);
            }
        }
        // As Kafka: the synonyms before the described key's own (e.g. log.retention.ms when describing .hours) go.
        while (!syns.isEmpty() && !syns.get(0).name().equals(key)) {
            syns.remove(0);
        }
        Type type = sensitive ? Type.PASSWORD : TopicConfigs.brokerSynonymType(key);
        if (type == null) {
            type = BROKER_TYPES.getOrDefault(key, Type.UNKNOWN);
        }
        Source source = syns.isEmpty() ? Source.DEFAULT_CONFIG : syns.get(0).source();
        return new ConfigValue(key, sensitive ? null : value, source, List.copyOf(syns), type, null,
                !BrokerConfigKeys.isDynamic(key), sensitive);
    }

    private static void addSynonym(List<Synonym> syns, String name, String value, Source source, boolean sensitive) {
        if (value != null) {
            syns.add(new Synonym(name, sensitive ? null : value, source));
        }
    }

    private static boolean isSensitive(String key) {
        return key.contains("password") || key.endsWith("sasl.jaas.config") || key.contains("secret");
    }

    private static DescribeConfigsResult ok(List<ConfigValue> values, boolean withSynonyms, boolean withDocs) {
        DescribeConfigsResult r = new DescribeConfigsResult().setErrorCode(Errors.NONE.code()).setErrorMessage(null);
        List<DescribeConfigsResourceResult> configs = new ArrayList<>(values.size());
        for (ConfigValue v : values) {
            DescribeConfigsResourceResult c = new DescribeConfigsResourceResult()
                    .setName(v.name())
                    .setValue(v.sensitive() ? null : v.value())
                    .setReadOnly(v.readOnly())
                    .setIsDefault(v.source() == Source.DEFAULT_CONFIG)
                    .setConfigSource(v.source().id)
                    .setIsSensitive(v.sensitive())
                    .setConfigType(v.type().id)
                    .setDocumentation(withDocs ? v.doc() : null);
            List<DescribeConfigsSynonym> syns = new ArrayList<>();
            if (withSynonyms) {
                for (Synonym s : v.synonyms()) {
                    syns.add(new DescribeConfigsSynonym().setName(s.name()).setValue(s.value()).setSource(s.source().id));
                }
            }
            c.synonyms = syns;
            configs.add(c);
        }
        r.configs = configs;
        return r;
    }

    private static DescribeConfigsResult error(Errors e, String message) {
        return new DescribeConfigsResult().setErrorCode(e.code()).setErrorMessage(message);
    }
}
