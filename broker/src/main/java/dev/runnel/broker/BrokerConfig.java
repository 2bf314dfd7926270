package dev.runnel.broker;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import dev.runnel.broker.config.BrokerConfigKeys;
import dev.runnel.broker.config.ConfigDef;
import dev.runnel.broker.state.TopicConfigs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker's configuration, read from Kafka-style {@code server.properties} keys and checked against
 * {@link BrokerConfigKeys} before anything uses it. Keys Runnel does not know are logged at WARN and kept
 * (DescribeConfigs still shows them), never fatal.
 */
public final class BrokerConfig {
    private static final Logger LOG = LoggerFactory.getLogger(BrokerConfig.class);

    /**
     * The keys every configuration holds, with Runnel's defaults; every key's type, default, rule and doc line are
     * in {@link BrokerConfigKeys} (add a key there, one line).
     */
    static final Map<String, String> DEFAULTS = BrokerConfigKeys.presetDefaults();

    /** The values in force: server.properties and Runnel's defaults, overridden by the dynamic configs. */
    private final Map<String, String> values;
    /** server.properties and Runnel's defaults, as read at start-up. */
    private final Map<String, String> staticValues;
    /** Dynamic configs set cluster-wide (Kafka's {@code --entity-default}, resource name ""). */
    private final Map<String, String> dynamicDefault;
    /** Dynamic configs set for this broker ({@code --entity-name <node.id>}). */
    private final Map<String, String> dynamicBroker;

    private BrokerConfig(Map<String, String> values) {
        this(values, values, Map.of(), Map.of());
    }

    private BrokerConfig(Map<String, String> values, Map<String, String> staticValues, Map<String, String> dynamicDefault,
                         Map<String, String> dynamicBroker) {
        this.values = values;
        this.staticValues = staticValues;
        this.dynamicDefault = dynamicDefault;
        this.dynamicBroker = dynamicBroker;
    }

    /**
     * This configuration's static values overridden by dynamic ones, in Kafka's order: the cluster-wide default,
     * then this broker's. Setting one key of a group of synonyms ({@code log.retention.ms}, {@code .minutes},
     * {@code .hours}) drops the lower layers' values of the others, as Kafka does, so the most specific layer wins.
     *
     * @throws IllegalArgumentException when the result is not a valid configuration (the message says why)
     */
    public BrokerConfig withDynamic(Map<String, String> clusterDefault, Map<String, String> perBroker) {
        Map<String, String> v = new LinkedHashMap<>(staticValues);
        overrideProps(v, clusterDefault);
        overrideProps(v, perBroker);
        BrokerConfig c = new BrokerConfig(v, staticValues, Map.copyOf(clusterDefault), Map.copyOf(perBroker));
        c.validate();
        String topicProblem = TopicConfigs.validateBroker(c);
        if (topicProblem != null) {
            throw new IllegalArgumentException(topicProblem);
        }
        return c;
    }

    private static void overrideProps(Map<String, String> values, Map<String, String> overrides) {
        overrides.forEach((k, value) -> {
            for (String synonym : synonymGroup(k)) {
                String preset = DEFAULTS.get(synonym);
                if (preset != null) {
                    values.put(synonym, preset);
                } else {
                    values.remove(synonym);
                }
            }
            values.put(k, value);
        });
    }

    /** The broker keys that set the same thing in other units (Kafka's {@code brokerConfigSynonyms}), {@code key} included. */
    public static List<String> synonymGroup(String key) {
        return switch (key) {
            case "log.roll.ms", "log.roll.hours" -> List.of("log.roll.ms", "log.roll.hours");
            case "log.roll.jitter.ms", "log.roll.jitter.hours" -> List.of("log.roll.jitter.ms", "log.roll.jitter.hours");
            case "log.flush.interval.ms" -> List.of("log.flush.interval.ms", "log.flush.scheduler.interval.ms");
            case "log.retention.ms", "log.retention.minutes", "log.retention.hours" ->
                    List.of("log.retention.ms", "log.retention.minutes", "log.retention.hours");
            default -> List.of(key);
        };
    }

    /** This broker's dynamic configs ({@code DYNAMIC_BROKER_CONFIG}). */
    public Map<String, String> dynamicBrokerConfigs() {
        return dynamicBroker;
    }

    /** The cluster-wide dynamic configs ({@code DYNAMIC_DEFAULT_BROKER_CONFIG}). */
    public Map<String, String> dynamicDefaultConfigs() {
        return dynamicDefault;
    }

    /** The value server.properties gives a key ({@code STATIC_BROKER_CONFIG}), or null when it leaves it at the default. */
    public String staticValue(String key) {
        String v = staticValues.get(key);
        if (v == null || DEFAULTS.containsKey(key) && DEFAULTS.get(key).equals(v)) {
            return null;
        }
        return v;
    }

    /** The configuration as server.properties and the defaults give it, without dynamic configs. */
    public BrokerConfig staticConfig() {
        return dynamicDefault.isEmpty() && dynamicBroker.isEmpty() ? this : new BrokerConfig(staticValues);
    }

    public static BrokerConfig defaults() {
        return fromProperties(new Properties());
    }

    /** Runnel's default for a key every configuration holds, or null (see {@link BrokerConfigKeys}). */
    public static String presetDefault(String key) {
        return DEFAULTS.get(key);
    }

    /**
     * Reads and checks a {@code server.properties} file.
     *
     * @throws ConfigDef.ConfigException when the file is missing or unreadable, or a value is invalid (the message
     *                                   is one line for the operator)
     */
    public static BrokerConfig fromFile(Path file) throws IOException {
        if (!Files.exists(file)) {
            throw new ConfigDef.ConfigException(null, file.toString(), "Config file " + file.toAbsolutePath()
                    + " does not exist: give the path of a server.properties (config/server.properties is an example), "
                    + "or no argument for the defaults");
        }
        if (Files.isDirectory(file) || !Files.isReadable(file)) {
            throw new ConfigDef.ConfigException(null, file.toString(), "Config file " + file.toAbsolutePath()
                    + (Files.isDirectory(file) ? " is a directory" : " is not readable by this user")
                    + ": give the path of a readable server.properties");
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            p.load(r);
        } catch (IOException | IllegalArgumentException e) {
            throw new ConfigDef.ConfigException(null, file.toString(), "Config file " + file.toAbsolutePath()
                    + " cannot be read as properties: " + e.getMessage());
        }
        return fromProperties(p);
    }

    /**
     * The configuration of these keys: every value of a known key is parsed and checked against its definition
     * first (a bad one throws, naming key, value and what is accepted); unknown keys are kept and logged at WARN
     * with the nearest known key.
     *
     * @throws ConfigDef.ConfigException when a value is invalid
     */
    public static BrokerConfig fromProperties(Properties props) {
        Map<String, String> v = new LinkedHashMap<>(DEFAULTS);
        List<String> ignored = new ArrayList<>();
        for (String key : new java.util.TreeSet<>(props.stringPropertyNames())) {
            String value = props.getProperty(key).trim();
            ConfigDef.Key def = BrokerConfigKeys.key(key);
            if (def == null) {
                LOG.warn("Config key {} is not known to Runnel{}; kept (DescribeConfigs shows it) but not used", key, suggestion(key));
            } else {
                ConfigDef.parse(def, value);
                if (def.use() == ConfigDef.Use.IGNORED) {
                    ignored.add(key);
                }
            }
            v.put(key, value);
        }
        if (!ignored.isEmpty()) {
            LOG.info("Kafka config keys Runnel accepts but does not use: {} (docs/configuration.md says why)", String.join(", ", ignored));
        }
        if (props.containsKey("broker.id") && !props.containsKey("node.id")) {
            v.put("node.id", props.getProperty("broker.id").trim());
        }
        if (props.containsKey("log.dir") && !props.containsKey("log.dirs")) {
            v.put("log.dirs", props.getProperty("log.dir").trim());
        }
        BrokerConfig c = new BrokerConfig(v);
        c.validate();
        return c;
    }

    /** ": did you mean listeners?" for a typo, a topic config's broker key for a topic config, else "". */
    private static String suggestion(String key) {
        TopicConfigs.Def topic = TopicConfigs.def(key);
        if (topic != null && !topic.synonyms().isEmpty()) {
            return " (" + key + " is a topic config; its broker default is " + topic.synonyms().get(0).key() + ")";
        }
        String near = BrokerConfigKeys.def().nearest(key, List.of());
        return near == null ? "" : " (did you mean " + near + "?)";
    }

    private void validate() {
        nodeId();
        listener();
        advertisedListener();
        if (messageMaxBytes() <= 0 || socketRequestMaxBytes() <= 0) {
            throw new IllegalArgumentException("message.max.bytes and socket.request.max.bytes must be positive");
        }
        if (maxConnections() <= 0 || maxConnectionsPerIp() < 0) {
            throw new IllegalArgumentException("max.connections must be positive and max.connections.per.ip not negative");
        }
        if (maxConnectionsPerIp() == 0 && maxConnectionsPerIpOverrides().isEmpty()) {
            // as Kafka: a per-ip limit of 0 only makes sense as "nobody but the listed hosts"
            throw new IllegalArgumentException("max.connections.per.ip can be 0 only if max.connections.per.ip.overrides is set");
        }
    }

    public String get(String key) {
        return values.get(key);
    }

    public Map<String, String> all() {
        return Collections.unmodifiableMap(values);
    }

    /** Whether a key has Runnel's default value and no dynamic config sets it. */
    public boolean isDefault(String key) {
        if (dynamicBroker.containsKey(key) || dynamicDefault.containsKey(key)) {
            return false;
        }
        return DEFAULTS.containsKey(key) && DEFAULTS.get(key).equals(values.get(key));
    }

    public int getInt(String key) {
        return Integer.parseInt(values.get(key));
    }

    public long getLong(String key) {
        return Long.parseLong(values.get(key));
    }

    public int nodeId() {
        return getInt("node.id");
    }

    public Listener listener() {
        return Listener.parseClient(values.get("listeners"), values.get("controller.listener.names"));
    }

    /** Where clients are told to connect; defaults to the listener (with a concrete host). */
    public Listener advertisedListener() {
        String adv = values.get("advertised.listeners");
        return adv == null || adv.isBlank() ? listener() : Listener.parseClient(adv, values.get("controller.listener.names"));
    }

    public List<Path> logDirs() {
        List<Path> dirs = new ArrayList<>();
        for (String s : values.get("log.dirs").split(",")) {
            if (!s.isBlank()) {
                dirs.add(Path.of(s.trim()));
            }
        }
        return dirs;
    }

    public int numPartitions() {
        return getInt("num.partitions");
    }

    public short defaultReplicationFactor() {
        return Short.parseShort(values.get("default.replication.factor"));
    }

    public boolean autoCreateTopics() {
        return Boolean.parseBoolean(values.get("auto.create.topics.enable"));
    }

    public int messageMaxBytes() {
        return getInt("message.max.bytes");
    }

    public int socketRequestMaxBytes() {
        return getInt("socket.request.max.bytes");
    }

    /** Broker-wide connection limit: at it, new connections wait until one closes (Kafka's {@code max.connections}). */
    public int maxConnections() {
        return getInt("max.connections");
    }

    /** Connections allowed from one address; more are closed at once. */
    public int maxConnectionsPerIp() {
        return getInt("max.connections.per.ip");
    }

    /** Per-address exceptions to {@link #maxConnectionsPerIp()}, from {@code host-or-ip:count,...}. */
    public Map<java.net.InetAddress, Integer> maxConnectionsPerIpOverrides() {
        return dev.runnel.broker.network.ConnectionQuotas.parseOverrides(values.get("max.connections.per.ip.overrides"));
    }

    /** Idle connections are closed after this long; 0 or less: never. */
    public long connectionsMaxIdleMs() {
        return getLong("connections.max.idle.ms");
    }

    /** Host and port of a listener such as {@code PLAINTEXT://localhost:9092}; port 0 binds a free port. */
    public record Listener(String name, String host, int port) {
        static Listener parseFirst(String spec) {
            return parse(spec.split(",")[0].trim());
        }

        /**
         * The listener clients use: the first one not named in {@code controller.listener.names}. A
         * controller-only node has none; it gets its controller listener (and serves no clients on it).
         */
        static Listener parseClient(String spec, String controllerNames) {
            List<Listener> all = parseAll(spec);
            java.util.Set<String> controllers = new java.util.HashSet<>();
            if (controllerNames != null) {
                for (String n : controllerNames.split(",")) {
                    controllers.add(n.trim());
                }
            }
            for (Listener l : all) {
                if (!controllers.contains(l.name())) {
                    return l;
                }
            }
            return all.get(0);
        }

        /** Every listener of a comma-separated list such as {@code PLAINTEXT://:9092,CONTROLLER://:9093}. */
        public static List<Listener> parseAll(String spec) {
            List<Listener> out = new java.util.ArrayList<>();
            if (spec == null) {
                return out;
            }
            for (String one : spec.split(",")) {
                if (!one.isBlank()) {
                    out.add(parse(one.trim()));
                }
            }
            if (out.isEmpty()) {
                throw new IllegalArgumentException("No listener in '" + spec + "'");
            }
            return out;
        }

        static Listener parse(String first) {
            int sep = first.indexOf("://");
            if (sep < 0) {
                throw new IllegalArgumentException("Listener must look like NAME://host:port, got " + first);
            }
            String name = first.substring(0, sep);
            String hostPort = first.substring(sep + 3);
            int colon = hostPort.lastIndexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("Listener has no port: " + first);
            }
            String host = hostPort.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            return new Listener(name, host, Integer.parseInt(hostPort.substring(colon + 1)));
        }
    }
}
