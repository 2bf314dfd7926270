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
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker's configuration, read from Kafka-style {@code server.properties} keys. Keys Runnel does not use
 * are logged and kept (DescribeConfigs still shows them), never fatal.
 */
public final class BrokerConfig {
    private static final Logger LOG = LoggerFactory.getLogger(BrokerConfig.class);

    /** Broker-level keys Runnel reads, with Kafka's defaults (the test-friendly ones noted). */
    static final Map<String, String> DEFAULTS = new LinkedHashMap<>();

    static {
        DEFAULTS.put("node.id", "1");
        DEFAULTS.put("listeners", "PLAINTEXT://localhost:9092");
        DEFAULTS.put("log.dirs", "./data");
        DEFAULTS.put("num.partitions", "1");
        DEFAULTS.put("default.replication.factor", "1");
        DEFAULTS.put("auto.create.topics.enable", "true");
        DEFAULTS.put("log.segment.bytes", "1073741824");
        DEFAULTS.put("log.roll.ms", String.valueOf(7L * 24 * 60 * 60 * 1000));
        DEFAULTS.put("log.index.interval.bytes", "4096");
        DEFAULTS.put("log.retention.hours", "168");
        DEFAULTS.put("log.retention.bytes", "-1");
        DEFAULTS.put("log.cleanup.policy", "delete");
        DEFAULTS.put("log.flush.interval.messages", String.valueOf(Long.MAX_VALUE));
        DEFAULTS.put("log.message.timestamp.type", "CreateTime");
        DEFAULTS.put("message.max.bytes", "1048588");
        DEFAULTS.put("socket.request.max.bytes", "104857600");
        DEFAULTS.put("max.connections", String.valueOf(Integer.MAX_VALUE));
        DEFAULTS.put("max.connections.per.ip", String.valueOf(Integer.MAX_VALUE));
        DEFAULTS.put("max.connections.per.ip.overrides", "");
        DEFAULTS.put("connections.max.idle.ms", "600000");
        DEFAULTS.put("min.insync.replicas", "1");
        DEFAULTS.put("compression.type", "producer");
        // Kafka's code default is 3000; its shipped server.properties and every test harness use 0.
        DEFAULTS.put("group.initial.rebalance.delay.ms", "0");
        DEFAULTS.put("offsets.topic.num.partitions", "50");
        DEFAULTS.put("offsets.topic.replication.factor", "1");
        DEFAULTS.put("transaction.state.log.replication.factor", "1");
        DEFAULTS.put("transaction.state.log.min.isr", "1");
        DEFAULTS.put("delete.topic.enable", "true");
    }

    private static final Set<String> KNOWN_EXTRA = Set.of("broker.id", "advertised.listeners", "log.dir", "process.roles",
            "controller.quorum.voters", "controller.listener.names", "listener.security.protocol.map", "inter.broker.listener.name",
            "cluster.id", "log.retention.ms", "log.retention.minutes", "num.network.threads", "num.io.threads",
            "socket.send.buffer.bytes", "socket.receive.buffer.bytes", "num.recovery.threads.per.data.dir",
            "log.retention.check.interval.ms", "log.cleaner.enable", "log.cleaner.backoff.ms", "log.cleaner.dedupe.buffer.size", "group.min.session.timeout.ms", "group.max.session.timeout.ms",
            "metrics.port", "metrics.enabled", "controller.quorum.bootstrap.servers",
            // A cluster's keys (KRaftConfig, ReplicaManager, the replica fetcher).
            "broker.rack", "broker.heartbeat.interval.ms", "broker.session.timeout.ms", "controller.quorum.election.timeout.ms",
            "min.insync.replicas", "replica.lag.time.max.ms", "num.replica.fetchers", "replica.fetch.max.bytes",
            "replica.fetch.response.max.bytes", "replica.fetch.wait.max.ms", "replica.fetch.min.bytes", "replica.fetch.backoff.ms",
            "replica.socket.timeout.ms", "replica.socket.receive.buffer.bytes", "auto.leader.rebalance.enable",
            "leader.imbalance.check.interval.seconds", "offsets.commit.required.acks", "unclean.leader.election.enable",
            "replica.high.watermark.checkpoint.interval.ms", "offsets.commit.timeout.ms",
            "runnel.controller.liveness.probe.interval.ms", "max.incremental.fetch.session.cache.slots");

    private final Map<String, String> values;

    private BrokerConfig(Map<String, String> values) {
        this.values = values;
    }

    public static BrokerConfig defaults() {
        return fromProperties(new Properties());
    }

    public static BrokerConfig fromFile(Path file) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            p.load(r);
        }
        return fromProperties(p);
    }

    public static BrokerConfig fromProperties(Properties props) {
        Map<String, String> v = new LinkedHashMap<>(DEFAULTS);
        for (String key : props.stringPropertyNames()) {
            String value = props.getProperty(key).trim();
            if (!DEFAULTS.containsKey(key) && !KNOWN_EXTRA.contains(key)) {
                LOG.info("Config key {} is not used by Runnel; keeping it for DescribeConfigs", key);
            }
            v.put(key, value);
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

    public boolean isDefault(String key) {
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
