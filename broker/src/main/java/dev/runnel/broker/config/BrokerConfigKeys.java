package dev.runnel.broker.config;

import static dev.runnel.broker.config.ConfigDef.atLeast;
import static dev.runnel.broker.config.ConfigDef.between;
import static dev.runnel.broker.config.ConfigDef.hostPorts;
import static dev.runnel.broker.config.ConfigDef.listOf;
import static dev.runnel.broker.config.ConfigDef.listeners;
import static dev.runnel.broker.config.ConfigDef.nonEmptyList;
import static dev.runnel.broker.config.ConfigDef.oneOf;
import static dev.runnel.broker.config.ConfigDef.pairs;

import dev.runnel.broker.config.ConfigDef.Type;
import dev.runnel.broker.state.TopicConfigs;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Every {@code server.properties} key Runnel knows, in one table: type, default, validator and a documentation
 * line (Kafka's names, types, defaults and validators unless a line says otherwise). A key that code reads is
 * added here with one {@code key(...)} line; one that Kafka has and Runnel ignores with one {@code ignored(...)}
 * line. The broker keys that are defaults of topic configs ({@code log.segment.bytes} for {@code segment.bytes}
 * ...) take their type and rule from {@link TopicConfigs}, so a broker default and a topic override can never
 * disagree on what a value means.
 *
 * <p>"Preset" keys are present in every {@code BrokerConfig} with their default (DescribeConfigs lists them as
 * Runnel's defaults); the others are absent unless given, and code that reads them applies the default shown here.
 */
public final class BrokerConfigKeys {
    private BrokerConfigKeys() {
    }

    private static final ConfigDef DEF = new ConfigDef();
    private static final Map<String, String> PRESET = new LinkedHashMap<>();
    private static final String INT_MAX = String.valueOf(Integer.MAX_VALUE);
    private static final String LONG_MAX = String.valueOf(Long.MAX_VALUE);
    private static final Pattern VOTER_ID = Pattern.compile("\\d+@");
    /** Marks a key that changes at run time (Kafka's dynamic broker configs); the others are read-only. */
    private static final boolean DYNAMIC = true;

    static {
        // ---- preset: in every BrokerConfig, with Runnel's default (the test-friendly ones say so)
        preset("node.id", Type.INT, "1", atLeast(0), "This node's id (Kafka's default -1 asks for one; Runnel's single node is 1). broker.id is an alias.");
        preset("listeners", Type.LIST, "PLAINTEXT://localhost:9092", listeners(),
                "Where the broker listens, NAME://host:port; port 0 picks a free port. The first listener not named in "
                        + "controller.listener.names serves clients.");
        preset("log.dirs", Type.LIST, "./data", nonEmptyList(),
                "Data directory (the first one is used), relative to the working directory unless absolute. log.dir is an alias.");
        preset("num.partitions", Type.INT, "1", atLeast(1), "Partitions of an auto-created topic or of CreateTopics without a count.");
        preset("default.replication.factor", Type.SHORT, "1", atLeast(1), "Replication factor of auto-created topics and of CreateTopics without one.");
        preset("auto.create.topics.enable", Type.BOOLEAN, "true", null, "Whether Metadata and Produce for an unknown topic create it.");
        synonym("log.segment.bytes", "segment.bytes", "1073741824");
        synonym("log.roll.ms", "segment.ms", String.valueOf(7L * 24 * 60 * 60 * 1000));
        synonym("log.index.interval.bytes", "index.interval.bytes", "4096");
        preset("log.retention.hours", Type.INT, "168", null, "Broker default of topic config retention.ms, in hours (log.retention.minutes and log.retention.ms win).");
        synonym("log.retention.bytes", "retention.bytes", "-1");
        synonym("log.cleanup.policy", "cleanup.policy", "delete");
        synonym("log.flush.interval.messages", "flush.messages", LONG_MAX);
        synonym("log.message.timestamp.type", "message.timestamp.type", "CreateTime");
        synonym("message.max.bytes", "max.message.bytes", "1048588");
        preset("socket.request.max.bytes", Type.INT, "104857600", atLeast(1), "Largest request frame; a larger one closes the connection before it is read.");
        preset("max.connections", Type.INT, INT_MAX, atLeast(1), "Connections the broker accepts at once; more wait in the listen backlog.", DYNAMIC);
        preset("max.connections.per.ip", Type.INT, INT_MAX, atLeast(0), "Connections accepted from one address (0 only with max.connections.per.ip.overrides).", DYNAMIC);
        preset("max.connections.per.ip.overrides", Type.LIST, "", pairs("host-or-ip:count entries", true), "Per-address limits instead of max.connections.per.ip.", DYNAMIC);
        preset("connections.max.idle.ms", Type.LONG, "600000", null, "A connection without traffic this long is closed; 0 or less: never.");
        synonym("min.insync.replicas", "min.insync.replicas", "1");
        synonym("compression.type", "compression.type", "producer");
        preset("group.initial.rebalance.delay.ms", Type.INT, "0", atLeast(0),
                "How long a new group waits for more members before its first rebalance (Kafka's code default 3000; its shipped server.properties 0).");
        preset("offsets.topic.num.partitions", Type.INT, "50", atLeast(1), "Partitions of __consumer_offsets.");
        preset("offsets.topic.replication.factor", Type.SHORT, "1", atLeast(1), "Replication factor of __consumer_offsets (Kafka's default 3).");
        preset("transaction.state.log.replication.factor", Type.SHORT, "1", atLeast(1), "Replication factor of __transaction_state (Kafka's default 3).");
        preset("transaction.state.log.min.isr", Type.INT, "1", atLeast(1), "min.insync.replicas of __transaction_state (Kafka's default 2).");
        preset("delete.topic.enable", Type.BOOLEAN, "true", null, "Whether DeleteTopics deletes.");

        // ---- read when given; absent otherwise
        key("broker.id", Type.INT, null, atLeast(0), "Alias of node.id (node.id wins).");
        key("log.dir", Type.STRING, null, null, "Alias of log.dirs (log.dirs wins).");
        key("advertised.listeners", Type.LIST, null, listeners(), "Addresses given to clients, NAME://host:port (default: the listener).");
        key("metrics.port", Type.INT, null, between(0, 65535), "Serve Prometheus' text format at http://<listener host>:<port>/metrics (0: a free port); unset: no metrics.");
        key("metrics.enabled", Type.BOOLEAN, "false", null, "Keep metrics without serving /metrics (for RunnelServer.metrics() in-process).");
        key("fetch.max.bytes", Type.INT, "57671680", atLeast(1024), "Most bytes one Fetch response carries.");
        key("log.retention.check.interval.ms", Type.LONG, "300000", atLeast(1), "How often retention looks for segments to delete.");
        key("num.recovery.threads.per.data.dir", Type.INT, "8", atLeast(1),
                "Threads that open (and after a crash recover) the partitions at start-up (Runnel's default 8; Kafka's 2); a dynamic value applies at the next start.", DYNAMIC);
        key("log.cleaner.enable", Type.BOOLEAN, "true", null, "Whether compacted topics are compacted.");
        key("log.cleaner.backoff.ms", Type.LONG, "15000", atLeast(0), "How often the cleaner looks for logs to compact.", DYNAMIC);
        key("log.cleaner.dedupe.buffer.size", Type.LONG, String.valueOf(128L << 20), null, "Memory for the cleaner's key map (24 bytes a key).", DYNAMIC);
        key("group.min.session.timeout.ms", Type.INT, "6000", null, "Shortest session timeout a consumer may ask for.");
        key("group.max.session.timeout.ms", Type.INT, "1800000", null, "Longest session timeout a consumer may ask for.");
        key("group.max.size", Type.INT, INT_MAX, atLeast(1), "Most members of one consumer group.");
        key("offset.metadata.max.bytes", Type.INT, "4096", null, "Longest metadata string of a committed offset.");
        key("offsets.retention.minutes", Type.INT, "10080", atLeast(1), "How long committed offsets of an empty group are kept.");
        key("offsets.retention.check.interval.ms", Type.LONG, "600000", atLeast(1), "How often expired offsets are removed.");
        key("offsets.commit.timeout.ms", Type.INT, "5000", atLeast(1), "How long an offset commit waits for the in-sync replicas.");
        key("transaction.state.log.num.partitions", Type.INT, "50", atLeast(1), "Partitions of __transaction_state.");
        key("transaction.max.timeout.ms", Type.INT, "900000", atLeast(1), "Longest transaction timeout a producer may ask for.");
        key("transactional.id.expiration.ms", Type.INT, "604800000", atLeast(1), "How long an idle transactional id is kept.");
        key("transaction.partition.verification.enable", Type.BOOLEAN, "true", null,
                "Before a transactions V1 producer's first transactional batch in a partition is appended, ask its coordinator whether the partition is in its transaction (KIP-890 part 1).", DYNAMIC);
        key("transaction.abort.timed.out.transaction.cleanup.interval.ms", Type.INT, "10000", atLeast(1), "How often timed-out transactions are aborted.");
        key("transaction.remove.expired.transaction.cleanup.interval.ms", Type.INT, "3600000", atLeast(1), "How often expired transactional ids are removed.");
        key("transaction.state.log.write.timeout.ms", Type.LONG, "5000", atLeast(1),
                "Runnel's: how long the transaction coordinator waits for the in-sync replicas of a __transaction_state write.");
        key("request.timeout.ms", Type.INT, "30000", atLeast(0), "Timeout of the broker's own requests to other brokers (transaction markers).");
        key("max.incremental.fetch.session.cache.slots", Type.INT, "1000", atLeast(0), "Fetch sessions (KIP-227) kept at most; 0: none.");
        key("quota.window.num", Type.INT, "11", atLeast(1), "Windows a client's byte rate is measured over (client quotas).");
        key("quota.window.size.seconds", Type.INT, "1", atLeast(1), "Length of one client-quota window, in seconds.");

        // ---- a cluster (KRaftConfig, ClusterNode, ReplicaManager, the replica fetcher)
        key("process.roles", Type.LIST, null, listOf("broker", "controller"), "broker, controller or both: a cluster node; unset: the single-node default.");
        key("controller.quorum.voters", Type.LIST, null, hostPorts("id@host:port entries", VOTER_ID), "The metadata quorum's voters.");
        key("controller.quorum.bootstrap.servers", Type.LIST, null, hostPorts("host:port entries", null), "Kafka 3.9+'s dynamic quorum; not supported yet (give controller.quorum.voters).");
        key("controller.listener.names", Type.LIST, null, null, "Listeners that serve the controller (Raft and --bootstrap-controller).");
        key("listener.security.protocol.map", Type.LIST, null, pairs("NAME:PROTOCOL entries", false), "Security protocol of each listener (only PLAINTEXT is served).");
        key("inter.broker.listener.name", Type.STRING, null, null, "The listener brokers replicate through.");
        key("cluster.id", Type.STRING, null, null, "Accepted for Kafka's tooling; the cluster id comes from meta.properties or the quorum.");
        key("broker.rack", Type.STRING, null, null, "This broker's rack: replicas of new partitions alternate racks.");
        key("broker.heartbeat.interval.ms", Type.INT, "2000", atLeast(1), "How often a broker sends the controller a heartbeat.");
        key("broker.session.timeout.ms", Type.INT, "9000", atLeast(1), "A broker silent this long is fenced.");
        key("controller.quorum.election.timeout.ms", Type.INT, "1000", atLeast(1), "Raft's election timeout.");
        key("runnel.controller.liveness.probe.interval.ms", Type.LONG, "250", atLeast(0),
                "Runnel's: the active controller fences a broker whose listener refuses connections twice in a row, probed this often; 0: off.");
        key("runnel.transaction.version", Type.INT, "2", between(1, 2),
                "Runnel's: the finalized transaction.version feature (Kafka sets it with kafka-features): 2 = Kafka 4.x clients use transactions V2 (KIP-890), 1 = V1.");
        key("replica.lag.time.max.ms", Type.LONG, "30000", atLeast(1), "A follower that has not caught up for this long leaves the ISR.");
        key("num.replica.fetchers", Type.INT, "1", atLeast(1), "Fetcher threads per leader broker.");
        key("replica.fetch.max.bytes", Type.INT, "1048576", atLeast(0), "Bytes a follower asks for per partition.");
        key("replica.fetch.response.max.bytes", Type.INT, "10485760", atLeast(0), "Bytes a follower asks for per fetch.");
        key("replica.fetch.wait.max.ms", Type.INT, "500", atLeast(0), "How long a leader may hold a follower's fetch.");
        key("replica.fetch.min.bytes", Type.INT, "1", atLeast(0), "Bytes a follower's fetch waits for.");
        key("replica.fetch.backoff.ms", Type.INT, "1000", atLeast(0), "Pause after a fetch error.");
        key("replica.socket.timeout.ms", Type.INT, "30000", atLeast(1), "A follower's connect and response timeout (at least replica.fetch.wait.max.ms).");
        key("replica.socket.receive.buffer.bytes", Type.INT, "65536", atLeast(-1), "A follower's SO_RCVBUF; -1: the OS default.");
        key("replica.high.watermark.checkpoint.interval.ms", Type.LONG, "5000", atLeast(1), "How often high watermarks are written to replication-offset-checkpoint.");
        key("auto.leader.rebalance.enable", Type.BOOLEAN, "true", null, "Move leadership back to preferred replicas periodically.");
        key("leader.imbalance.check.interval.seconds", Type.LONG, "300", atLeast(1), "How often preferred leaders are restored.");

        // ---- the other broker keys that are defaults of topic configs (log.retention.ms, log.roll.hours, ...)
        for (TopicConfigs.Def topic : TopicConfigs.defs().values()) {
            for (TopicConfigs.BrokerSynonym s : topic.synonyms()) {
                if (DEF.key(s.key()) != null) {
                    continue;
                }
                if (s.factor() == 1) {
                    DEF.add(synonymKey(s.key(), topic.name(), s.kafkaDefault()));
                } else {
                    // log.retention.hours, log.retention.minutes, log.roll.hours, log.roll.jitter.hours: INT in Kafka
                    String unit = s.factor() == 3_600_000L ? "hours" : "minutes";
                    ConfigDef.Validator v = s.key().equals("log.roll.hours") ? atLeast(1)
                            : s.key().equals("log.roll.jitter.hours") ? atLeast(0) : null;
                    key(s.key(), Type.INT, s.kafkaDefault(), v, "Broker default of topic config " + topic.name() + ", in " + unit + ".");
                }
            }
        }

        // ---- Kafka keys Runnel accepts and ignores (Kafka's types and defaults)
        ignored("num.network.threads", Type.INT, "3", "Netty's event loops do the network work, one per core.", DYNAMIC);
        ignored("num.io.threads", Type.INT, "8", "Requests are served on the network threads; there is no request queue.", DYNAMIC);
        ignored("queued.max.requests", Type.INT, "500", "No request queue (see num.io.threads).");
        ignored("background.threads", Type.INT, "10", "Background work has its own named threads.", DYNAMIC);
        ignored("socket.send.buffer.bytes", Type.INT, "102400", "The operating system's socket buffer sizes are used.");
        ignored("socket.receive.buffer.bytes", Type.INT, "102400", "The operating system's socket buffer sizes are used.");
        ignored("log.cleaner.threads", Type.INT, "1", "One cleaner thread.", DYNAMIC);
        ignored("log.cleaner.io.max.bytes.per.second", Type.DOUBLE, String.valueOf(Double.MAX_VALUE), "The cleaner is not throttled.", DYNAMIC);
        ignored("leader.imbalance.per.broker.percentage", Type.INT, "10", "Any imbalance is corrected at the next check.");
        ignored("offsets.commit.required.acks", Type.SHORT, "-1", "Offset commits always wait for the in-sync replicas (-1).");
        ignored("offsets.load.buffer.size", Type.INT, "5242880", "Groups are loaded batch by batch.");
        ignored("offsets.topic.segment.bytes", Type.INT, "104857600", "__consumer_offsets uses log.segment.bytes.");
        ignored("transaction.state.log.segment.bytes", Type.INT, "104857600", "__transaction_state uses log.segment.bytes.");
        ignored("share.coordinator.state.topic.replication.factor", Type.SHORT, "3", "No share groups.");
        ignored("share.coordinator.state.topic.min.isr", Type.SHORT, "2", "No share groups.");
        ignored("group.coordinator.rebalance.protocols", Type.LIST, "classic,consumer,streams", "Only the classic protocol is served.");
        ignored("metadata.log.dir", Type.STRING, null, "The metadata log lives under log.dirs.");
        ignored("security.inter.broker.protocol", Type.STRING, "PLAINTEXT", "Only PLAINTEXT is served.");
        ignored("replica.selector.class", Type.STRING, null, "No fetch from followers.");
        ignored("log.flush.offset.checkpoint.interval.ms", Type.INT, "60000", "Checkpoints are written with the high watermarks and at shutdown.");
        ignored("log.flush.start.offset.checkpoint.interval.ms", Type.INT, "60000", "Written with each retention pass.");
    }

    private static void preset(String name, Type type, String dflt, ConfigDef.Validator v, String doc) {
        preset(name, type, dflt, v, doc, false);
    }

    private static void preset(String name, Type type, String dflt, ConfigDef.Validator v, String doc, boolean dynamic) {
        key(name, type, dflt, v, doc, dynamic);
        PRESET.put(name, dflt);
    }

    private static void key(String name, Type type, String dflt, ConfigDef.Validator v, String doc) {
        key(name, type, dflt, v, doc, false);
    }

    private static void key(String name, Type type, String dflt, ConfigDef.Validator v, String doc, boolean dynamic) {
        ConfigDef.Key k = new ConfigDef.Key(name, type, dflt, v, doc, ConfigDef.Use.USED);
        DEF.add(dynamic ? k.asDynamic() : k);
    }

    private static void ignored(String name, Type type, String kafkaDefault, String why) {
        ignored(name, type, kafkaDefault, why, false);
    }

    /** A Kafka key Runnel ignores; {@code dynamic} when Kafka lets it change at run time (accepted, kept, no effect). */
    private static void ignored(String name, Type type, String kafkaDefault, String why, boolean dynamic) {
        ConfigDef.Key k = new ConfigDef.Key(name, type, kafkaDefault, null, why, ConfigDef.Use.IGNORED);
        DEF.add(dynamic ? k.asDynamic() : k);
    }

    /** A preset broker key that is the default of a topic config: its type and rule are the topic config's. */
    private static void synonym(String name, String topicConfig, String dflt) {
        DEF.add(synonymKey(name, topicConfig, dflt));
        PRESET.put(name, dflt);
    }

    private static ConfigDef.Key synonymKey(String name, String topicConfig, String dflt) {
        TopicConfigs.Def topic = TopicConfigs.def(topicConfig);
        Type type = Type.valueOf(topic.type().name());
        String accepted = TopicConfigs.accepted(topicConfig);
        ConfigDef.Validator v = ConfigDef.rule(accepted == null ? "as topic config " + topicConfig : accepted + " (as topic config " + topicConfig + ")",
                parsed -> reason(name, TopicConfigs.brokerValueProblem(name, topicConfig, text(parsed))));
        String doc = name.equals(topicConfig) ? topic.doc() : "Broker default of topic config " + topicConfig + ": " + topic.doc();
        // As Kafka's DynamicLogConfig: the first broker key of each topic config changes at run time (topics without
        // an override follow it), except log.message.format.version.
        boolean dynamic = topic.synonyms().get(0).key().equals(name) && !name.equals("log.message.format.version");
        return new ConfigDef.Key(name, type, dflt, v, doc, ConfigDef.Use.USED, dynamic);
    }

    private static String text(Object parsed) {
        return parsed instanceof List<?> l ? String.join(",", l.stream().map(Object::toString).toList()) : String.valueOf(parsed);
    }

    /** The reason part of a message in Kafka's form ("Invalid value x for configuration k: reason"). */
    private static String reason(String key, String message) {
        if (message == null) {
            return null;
        }
        String marker = " for configuration " + key + ": ";
        int i = message.indexOf(marker);
        return message.startsWith("Invalid value ") && i >= 0 ? message.substring(i + marker.length()) : message;
    }

    /** The table. */
    public static ConfigDef def() {
        return DEF;
    }

    /** The definition of a key, or null when Runnel does not know it. */
    public static ConfigDef.Key key(String name) {
        return DEF.key(name);
    }

    /** Whether a key may change at run time ({@code kafka-configs --alter --entity-type brokers}). */
    public static boolean isDynamic(String name) {
        ConfigDef.Key k = DEF.key(name);
        return k != null && k.dynamic();
    }

    /** The keys every BrokerConfig holds, with their defaults, in table order. */
    public static Map<String, String> presetDefaults() {
        return Collections.unmodifiableMap(PRESET);
    }

    /** docs/configuration.md, also printed by {@code runnel-server-start.sh --help-config}. */
    public static String markdown() {
        return "# Runnel configuration (`server.properties`)\n\n"
                + "Generated from `broker/src/main/java/dev/runnel/broker/config/BrokerConfigKeys.java` (the broker checks every\n"
                + "given value against this table before it opens anything; `bin/runnel-server-start.sh --help-config` prints it).\n"
                + "A wrong value stops the start with one line naming the key, the value and what is accepted. A key not listed\n"
                + "here is kept (DescribeConfigs shows it) and logged at WARN, with the nearest known key when it looks like a typo.\n"
                + "Relative paths (the default `log.dirs=./data`) are relative to the directory the broker is started from.\n\n"
                + "## Keys Runnel reads\n\n" + DEF.markdown(ConfigDef.Use.USED)
                + "\n## Kafka keys Runnel accepts and ignores\n\n" + DEF.markdown(ConfigDef.Use.IGNORED)
                + "\n## Topic configs\n\nCreateTopics, AlterConfigs and IncrementalAlterConfigs accept Kafka's topic configs; each falls back to the\n"
                + "broker key named in its row above (\"Broker default of topic config ...\"), which is checked by the same rule.\n";
    }
}
