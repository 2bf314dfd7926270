package dev.runnel.broker.state;

import dev.runnel.broker.BrokerConfig;
import dev.runnel.log.LogConfig;
import dev.runnel.wire.records.TimestampType;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Topic-level configs: Kafka's names, types and defaults, the broker-level keys they fall back to (their
 * "synonyms"), validation with Kafka's messages, the effective value of each config with where it came from
 * (for DescribeConfigs and CreateTopics v5+), and the {@link LogConfig} a partition log runs with.
 *
 * <p>The list is Kafka 4.x's (the configs {@code kafka-configs --describe --all} shows for a topic) plus three Kafka
 * 3.x names that 4.0 removed and old clients' admin paths still set: {@code message.format.version} (accepted, no
 * effect: the log always stores format v2, as Kafka 3.x does once the inter-broker protocol is 3.0+),
 * {@code message.timestamp.difference.max.ms} (the old bound on CreateTime timestamps, used where
 * {@code message.timestamp.before/after.max.ms} are not set, as in Kafka 3.6+) and
 * {@code message.downconversion.enable} (whether Fetch v0-3 may get records converted to magic 0/1).
 * {@code segment.bytes} keeps Kafka 3.x's lower bound (14 bytes) rather than 4.x's 1 MiB, so that tests
 * which roll tiny segments keep working.
 *
 * <p>A topic config's value comes from the topic's override, else from a broker key (set dynamically for this
 * broker, dynamically cluster-wide, or in {@code server.properties}: see {@link BrokerConfig#withDynamic}), else
 * from the default. Overrides are stored in their canonical
 * form (see {@link #normalize(Map)}), which is also how they are described, as Kafka does.
 */
public final class TopicConfigs {
    private TopicConfigs() {
    }

    /** The {@code config_type} ids of DescribeConfigs v3+. */
    public enum Type {
        UNKNOWN(0), BOOLEAN(1), STRING(2), INT(3), SHORT(4), LONG(5), DOUBLE(6), LIST(7), CLASS(8), PASSWORD(9);

        public final byte id;

        Type(int id) {
            this.id = (byte) id;
        }
    }

    /** The {@code config_source} ids of DescribeConfigs v1+ (and CreateTopics v5+). */
    public enum Source {
        UNKNOWN(0), TOPIC_CONFIG(1), DYNAMIC_BROKER_CONFIG(2), DYNAMIC_DEFAULT_BROKER_CONFIG(3), STATIC_BROKER_CONFIG(4),
        DEFAULT_CONFIG(5);

        public final byte id;

        Source(int id) {
            this.id = (byte) id;
        }
    }

    /**
     * A broker key a topic config falls back to. {@code factor} converts its unit to the topic config's
     * (3600000 for {@code log.retention.hours}); {@code kafkaDefault} is Kafka's default for the key, or null
     * when it has none (then the next synonym decides).
     */
    public record BrokerSynonym(String key, long factor, String kafkaDefault) {
    }

    /** One topic config: name, type, default, broker synonyms in precedence order, value rule and a short doc. */
    public record Def(String name, Type type, String defaultValue, List<BrokerSynonym> synonyms, Rule rule, String doc) {
    }

    /** A value rule: returns why a parsed value is unacceptable (the whole message, in Kafka's wording), or null. */
    @FunctionalInterface
    interface Rule {
        String problem(Def def, String raw, Object parsed);

        /** What the rule accepts, in words ("at least 14"), for messages and the configuration docs. */
        default String accepted() {
            return null;
        }
    }

    private static Rule described(String accepted, Rule rule) {
        return new Rule() {
            @Override
            public String problem(Def def, String raw, Object parsed) {
                return rule.problem(def, raw, parsed);
            }

            @Override
            public String accepted() {
                return accepted;
            }
        };
    }

    /** One line of a describe: the effective value, where it came from, and the synonyms that were considered. */
    public record ConfigValue(String name, String value, Source source, List<Synonym> synonyms, Type type, String doc,
                              boolean readOnly, boolean sensitive) {
    }

    /** A synonym line: a key, its value and its source. */
    public record Synonym(String name, String value, Source source) {
    }

    private static final Map<String, Def> DEFS = new TreeMap<>();
    private static final Map<String, BrokerSynonym> BROKER_KEYS = new LinkedHashMap<>();
    private static final Pattern COMMA = Pattern.compile("\\s*,\\s*");
    private static final Pattern THROTTLED_REPLICA = Pattern.compile("\\d+:\\d+");
    private static final long MAX = Long.MAX_VALUE;
    private static final String MAX_S = Long.toString(MAX);
    private static final long HOUR_MS = 3_600_000L;
    private static final String TIERED_STORAGE_DISABLED =
            "Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage.";

    static {
        def("cleanup.policy", Type.LIST, "delete", oneOfList("compact", "delete"),
                "Retention policy for old log segments: 'delete' removes them by time or size, 'compact' keeps the latest "
                        + "record per key; both may be given.",
                syn("log.cleanup.policy", "delete"));
        def("compression.gzip.level", Type.INT, "-1", gzipLevel(),
                "Compression level when compression.type is gzip: 1 to 9, or -1 for the codec's default.",
                syn("compression.gzip.level", "-1"));
        def("compression.lz4.level", Type.INT, "9", between(1, 17),
                "Compression level when compression.type is lz4.", syn("compression.lz4.level", "9"));
        def("compression.type", Type.STRING, "producer",
                oneOf("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"),
                "Codec the broker stores batches with; 'producer' keeps whatever the producer used.",
                syn("compression.type", "producer"));
        def("compression.zstd.level", Type.INT, "3", between(-131072, 22),
                "Compression level when compression.type is zstd.", syn("compression.zstd.level", "3"));
        def("delete.retention.ms", Type.LONG, "86400000", atLeast(0),
                "How long delete markers (tombstones) are kept on compacted topics.",
                syn("log.cleaner.delete.retention.ms", "86400000"));
        def("file.delete.delay.ms", Type.LONG, "60000", atLeast(0),
                "Delay before a segment removed from the log is deleted from disk.",
                syn("log.segment.delete.delay.ms", "60000"));
        def("flush.messages", Type.LONG, MAX_S, atLeast(1),
                "Force an fsync after this many records; by default durability comes from replication and the OS.",
                syn("log.flush.interval.messages", MAX_S));
        def("flush.ms", Type.LONG, MAX_S, atLeast(0),
                "Force an fsync when data has waited this long.",
                syn("log.flush.interval.ms", null), syn("log.flush.scheduler.interval.ms", MAX_S));
        def("follower.replication.throttled.replicas", Type.LIST, "", throttledReplicas(),
                "Replicas whose follower-side replication is throttled: '*' or partition:broker pairs.");
        def("index.interval.bytes", Type.INT, "4096", atLeast(0),
                "Bytes of log between two entries of the offset and time indexes.",
                syn("log.index.interval.bytes", "4096"));
        def("leader.replication.throttled.replicas", Type.LIST, "", throttledReplicas(),
                "Replicas whose leader-side replication is throttled: '*' or partition:broker pairs.");
        def("local.retention.bytes", Type.LONG, "-2", atLeast(-2),
                "With tiered storage, bytes kept locally per partition (-2: as retention.bytes).",
                syn("log.local.retention.bytes", "-2"));
        def("local.retention.ms", Type.LONG, "-2", atLeast(-2),
                "With tiered storage, how long segments are kept locally (-2: as retention.ms).",
                syn("log.local.retention.ms", "-2"));
        def("max.compaction.lag.ms", Type.LONG, MAX_S, atLeast(1),
                "Longest time a record may stay uncompacted on a compacted topic.",
                syn("log.cleaner.max.compaction.lag.ms", MAX_S));
        def("max.message.bytes", Type.INT, "1048588", atLeast(0),
                "Largest record batch (after compression) the topic accepts.", syn("message.max.bytes", "1048588"));
        def("message.timestamp.after.max.ms", Type.LONG, "3600000", atLeast(0),
                "How far in the future a CreateTime timestamp may be compared with the broker's clock.",
                syn("log.message.timestamp.after.max.ms", "3600000"));
        def("message.timestamp.before.max.ms", Type.LONG, MAX_S, atLeast(0),
                "How far in the past a CreateTime timestamp may be compared with the broker's clock.",
                syn("log.message.timestamp.before.max.ms", MAX_S));
        def("message.downconversion.enable", Type.BOOLEAN, "true", null,
                "Whether Fetch v0-3 (clients before Kafka 0.11) may read this topic, its records down-converted to "
                        + "message format v0/v1.", syn("log.message.downconversion.enable", "true"));
        def("message.format.version", Type.STRING, "3.0-IV1", messageFormatVersion(),
                "Kafka 3.x's message format version; accepted for old clients and ignored: records are always stored "
                        + "in format v2 and converted for old clients.", syn("log.message.format.version", "3.0-IV1"));
        def("message.timestamp.difference.max.ms", Type.LONG, MAX_S, atLeast(0),
                "Deprecated bound on how far a CreateTime timestamp may be from the broker's clock, in both directions; "
                        + "applies where message.timestamp.before.max.ms / after.max.ms are not set.",
                syn("log.message.timestamp.difference.max.ms", MAX_S));
        def("message.timestamp.type", Type.STRING, "CreateTime", oneOf("CreateTime", "LogAppendTime"),
                "Whether record timestamps are the producer's (CreateTime) or the broker's append time (LogAppendTime).",
                syn("log.message.timestamp.type", "CreateTime"));
        def("min.cleanable.dirty.ratio", Type.DOUBLE, "0.5", betweenD(0, 1),
                "Share of a compacted log that must be uncompacted before the cleaner works on it.",
                syn("log.cleaner.min.cleanable.ratio", "0.5"));
        def("min.compaction.lag.ms", Type.LONG, "0", atLeast(0),
                "Shortest time a record stays uncompacted on a compacted topic.",
                syn("log.cleaner.min.compaction.lag.ms", "0"));
        def("min.insync.replicas", Type.INT, "1", atLeast(1),
                "Replicas that must have a write for an acks=all produce to succeed.",
                syn("min.insync.replicas", "1"));
        def("preallocate", Type.BOOLEAN, "false", null,
                "Whether segment files are preallocated on disk when created.", syn("log.preallocate", "false"));
        def("remote.log.copy.disable", Type.BOOLEAN, "false", null,
                "With tiered storage, stop copying segments to remote storage.");
        def("remote.log.delete.on.disable", Type.BOOLEAN, "false", null,
                "With tiered storage, delete remote data when tiered storage is turned off for the topic.");
        def("remote.storage.enable", Type.BOOLEAN, "false", null,
                "Tiered storage for the topic; Runnel has none, so only false is accepted.");
        def("retention.bytes", Type.LONG, "-1", null,
                "Largest size a partition may grow to before old segments are deleted (-1: no limit).",
                syn("log.retention.bytes", "-1"));
        def("retention.ms", Type.LONG, "604800000", atLeast(-1),
                "How long segments are kept before they are deleted (-1: forever).",
                syn("log.retention.ms", null), new BrokerSynonym("log.retention.minutes", 60_000L, null),
                new BrokerSynonym("log.retention.hours", HOUR_MS, "168"));
        def("segment.bytes", Type.INT, "1073741824", atLeast(14),
                "Size at which the active segment is rolled.", syn("log.segment.bytes", "1073741824"));
        def("segment.index.bytes", Type.INT, "10485760", atLeast(4),
                "Size of each segment's offset and time index.", syn("log.index.size.max.bytes", "10485760"));
        def("segment.jitter.ms", Type.LONG, "0", atLeast(0),
                "Random jitter subtracted from segment.ms so that segments do not all roll at once.",
                syn("log.roll.jitter.ms", null), new BrokerSynonym("log.roll.jitter.hours", HOUR_MS, "0"));
        def("segment.ms", Type.LONG, "604800000", atLeast(1),
                "Time after which the active segment is rolled even if it is not full.",
                syn("log.roll.ms", null), new BrokerSynonym("log.roll.hours", HOUR_MS, "168"));
        def("unclean.leader.election.enable", Type.BOOLEAN, "false", null,
                "Whether a replica outside the ISR may become leader (risking data loss).",
                syn("unclean.leader.election.enable", "false"));
    }

    private static BrokerSynonym syn(String key, String kafkaDefault) {
        return new BrokerSynonym(key, 1, kafkaDefault);
    }

    private static void def(String name, Type type, String dflt, Rule rule, String doc, BrokerSynonym... synonyms) {
        DEFS.put(name, new Def(name, type, dflt, List.of(synonyms), rule, doc));
        for (BrokerSynonym s : synonyms) {
            BROKER_KEYS.putIfAbsent(s.key(), s);
        }
    }

    // ---------------------------------------------------------------- the definitions

    /** Every topic config, by name (sorted). */
    public static Map<String, Def> defs() {
        return Collections.unmodifiableMap(DEFS);
    }

    /** The definition of a topic config, or null when Kafka has no topic config of that name. */
    public static Def def(String name) {
        return name == null ? null : DEFS.get(name);
    }

    /**
     * The broker keys that topic configs fall back to, with Kafka's default for each (null when Kafka has
     * none, as for {@code log.retention.ms}); DescribeConfigs lists them for a broker.
     */
    public static Map<String, String> brokerSynonymDefaults() {
        Map<String, String> m = new LinkedHashMap<>();
        BROKER_KEYS.forEach((k, s) -> m.put(k, s.kafkaDefault()));
        return m;
    }

    /** Whether a broker key is the default of a topic config (log.retention.ms for retention.ms ...). */
    public static boolean isBrokerSynonym(String key) {
        return BROKER_KEYS.containsKey(key);
    }

    /** The type of a broker key that is a synonym of a topic config, or null when it is not one. */
    public static Type brokerSynonymType(String key) {
        BrokerSynonym s = BROKER_KEYS.get(key);
        if (s == null) {
            return null;
        }
        if (s.factor() != 1) {
            return Type.INT; // log.retention.hours, log.retention.minutes, log.roll.hours, log.roll.jitter.hours
        }
        for (Def d : DEFS.values()) {
            if (d.synonyms().contains(s)) {
                return d.type();
            }
        }
        return null;
    }

    /** Kafka's (internal) topic names: CreateTopics marks these internal. */
    public static boolean isInternalTopicName(String name) {
        return "__consumer_offsets".equals(name) || "__transaction_state".equals(name);
    }

    // ---------------------------------------------------------------- validation

    /** Why these overrides are invalid (a message for INVALID_CONFIG), or null when they are fine. */
    public static String validate(Map<String, String> overrides) {
        return validate(null, overrides);
    }

    /**
     * Why these overrides are invalid on this broker (a message for INVALID_CONFIG), or null when they are fine.
     * Names are checked first, then values, then the rules that relate two configs; values that the topic does
     * not override are taken from the broker ({@code broker} may be null: Kafka's defaults).
     */
    public static String validate(BrokerConfig broker, Map<String, String> overrides) {
        Set<String> names = new TreeSet<>();
        for (String name : overrides.keySet()) {
            if (name == null || !DEFS.containsKey(name)) {
                return "Unknown topic config name: " + name;
            }
            names.add(name);
        }
        for (String name : names) {
            String problem = valueProblem(name, overrides.get(name));
            if (problem != null) {
                return problem;
            }
        }
        long minLag = (Long) effectiveParsed(broker, overrides, "min.compaction.lag.ms");
        long maxLag = (Long) effectiveParsed(broker, overrides, "max.compaction.lag.ms");
        if (minLag > maxLag) {
            return "conflict topic config setting min.compaction.lag.ms (" + minLag + ") > max.compaction.lag.ms ("
                    + maxLag + ")";
        }
        if (Boolean.TRUE.equals(effectiveParsed(broker, overrides, "remote.storage.enable"))) {
            return TIERED_STORAGE_DISABLED;
        }
        return null;
    }

    /** Why {@code value} is not acceptable for topic config {@code name} (Kafka's wording), or null. */
    public static String valueProblem(String name, String value) {
        Def def = DEFS.get(name);
        if (def == null) {
            return "Unknown topic config name: " + name;
        }
        if (value == null) {
            return "Invalid value null for configuration " + name + ": Value must be non-null";
        }
        Object parsed;
        try {
            parsed = parse(def, value);
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        return def.rule() == null ? null : def.rule().problem(def, value, parsed);
    }

    /**
     * Why {@code raw} is not acceptable for broker key {@code brokerKey}, the synonym (same unit) of topic config
     * {@code topicConfig}: the topic config's type and rule, with the broker key named in the message. Null when
     * fine. This is how {@code server.properties} and topic overrides share one definition.
     */
    public static String brokerValueProblem(String brokerKey, String topicConfig, String raw) {
        Def def = DEFS.get(topicConfig);
        Def renamed = new Def(brokerKey, def.type(), def.defaultValue(), def.synonyms(), def.rule(), def.doc());
        Object parsed;
        try {
            parsed = parse(renamed, raw);
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        return def.rule() == null ? null : def.rule().problem(renamed, raw, parsed);
    }

    /** What topic config {@code name} accepts beyond its type, in words, or null when any value of its type is. */
    public static String accepted(String name) {
        Def def = DEFS.get(name);
        return def == null || def.rule() == null ? null : def.rule().accepted();
    }

    private static String invalid(Def def, Object shownValue, String reason) {
        return "Invalid value " + shownValue + " for configuration " + def.name() + ": " + reason;
    }

    /** Parses a value as Kafka's ConfigDef does (trimmed; lists split on commas); throws with Kafka's message. */
    static Object parse(Def def, String raw) {
        String s = raw.trim();
        switch (def.type()) {
            case LONG:
                try {
                    return Long.parseLong(s);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(invalid(def, raw, "Not a number of type LONG"));
                }
            case INT:
                try {
                    return Integer.parseInt(s);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(invalid(def, raw, "Not a number of type INT"));
                }
            case DOUBLE:
                try {
                    return Double.parseDouble(s);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(invalid(def, raw, "Not a number of type DOUBLE"));
                }
            case BOOLEAN:
                if (s.equalsIgnoreCase("true")) {
                    return Boolean.TRUE;
                }
                if (s.equalsIgnoreCase("false")) {
                    return Boolean.FALSE;
                }
                throw new IllegalArgumentException(invalid(def, raw, "Expected value to be either true or false"));
            case LIST:
                if (s.isEmpty()) {
                    return List.of();
                }
                return List.of(COMMA.split(s, -1));
            default:
                return s;
        }
    }

    /** The canonical text of a parsed value, as DescribeConfigs shows it. */
    static String format(Def def, Object parsed) {
        if (parsed instanceof List<?> list) {
            return String.join(",", list.stream().map(Object::toString).toList());
        }
        return String.valueOf(parsed);
    }

    /**
     * The overrides in canonical form ({@code " 100 "} becomes {@code "100"}, {@code "compact, delete"} becomes
     * {@code "compact,delete"}, booleans lower case). Values must have passed {@link #validate}.
     */
    public static Map<String, String> normalize(Map<String, String> overrides) {
        Map<String, String> out = new TreeMap<>();
        overrides.forEach((k, v) -> {
            Def def = DEFS.get(k);
            out.put(k, def == null || v == null ? v : format(def, parse(def, v)));
        });
        return out;
    }

    private static Rule atLeast(long min) {
        return described("at least " + min, (def, raw, v) -> ((Number) v).longValue() < min ? invalid(def, raw, "Value must be at least " + min) : null);
    }

    private static Rule between(long min, long max) {
        return described("from " + min + " to " + max, (def, raw, v) -> {
            long n = ((Number) v).longValue();
            if (n < min) {
                return invalid(def, raw, "Value must be at least " + min);
            }
            return n > max ? invalid(def, raw, "Value must be no more than " + max) : null;
        });
    }

    private static Rule betweenD(long min, long max) {
        return described("from " + min + " to " + max, (def, raw, v) -> {
            double d = (Double) v;
            if (d < min) {
                return invalid(def, raw, "Value must be at least " + min);
            }
            return d > max ? invalid(def, raw, "Value must be no more than " + max) : null;
        });
    }

    private static Rule gzipLevel() {
        return described("-1 or from 1 to 9", (def, raw, v) -> {
            int n = (Integer) v;
            return n == -1 || (n >= 1 && n <= 9) ? null : invalid(def, raw, "Value must be between 1 and 9 or equal to -1");
        });
    }

    /** Kafka 3.x's {@code MetadataVersion} spellings: 0.8.0 .. 3.9, with or without an -IVn suffix. */
    private static Rule messageFormatVersion() {
        Pattern version = Pattern.compile("(0\\.(8|9|10|11)(\\.[0-9]+)?|[1-3]\\.[0-9]+)(\\.[0-9]+)?(-IV[0-9]+)?");
        return (def, raw, v) -> version.matcher(((String) v).trim()).matches() ? null
                : invalid(def, raw, "Version `" + v + "` is not a valid version");
    }

    private static Rule oneOf(String... allowed) {
        List<String> list = List.of(allowed);
        return described("one of: " + String.join(", ", list), (def, raw, v) -> list.contains((String) v) ? null
                : invalid(def, raw, "String must be one of: " + String.join(", ", list)));
    }

    private static Rule oneOfList(String... allowed) {
        List<String> list = List.of(allowed);
        return described("each one of: " + String.join(", ", list), (def, raw, v) -> {
            for (Object item : (List<?>) v) {
                if (item.toString().isEmpty()) {
                    return "Configuration '" + def.name() + "' values must not be empty.";
                }
            }
            for (Object item : (List<?>) v) {
                if (!list.contains(item.toString())) {
                    return invalid(def, raw, "String must be one of: " + String.join(", ", list));
                }
            }
            return null;
        });
    }

    private static Rule throttledReplicas() {
        return described("'*' or partition:broker pairs", (def, raw, v) -> {
            List<?> items = (List<?>) v;
            if (items.size() == 1 && "*".equals(items.get(0))) {
                return null;
            }
            for (Object item : items) {
                if (!THROTTLED_REPLICA.matcher(item.toString()).matches()) {
                    // Kafka shows the parsed list here: "Invalid value [x] for configuration ...".
                    return invalid(def, items, def.name() + " must be the literal '*' or a list of replicas in the "
                            + "following format: [partitionId]:[brokerId],[partitionId]:[brokerId],...");
                }
            }
            return null;
        });
    }

    // ---------------------------------------------------------------- effective values

    /** Whether a broker key was set in server.properties (a value equal to Runnel's default counts as unset). */
    private static boolean setExplicitly(BrokerConfig broker, String key) {
        return broker != null && broker.get(key) != null && !broker.isDefault(key);
    }

    /** The default a broker key has when server.properties does not set it: Runnel's, else Kafka's. */
    public static String brokerDefault(String key) {
        String runnel = BrokerConfig.presetDefault(key);
        if (runnel != null) {
            return runnel;
        }
        BrokerSynonym s = BROKER_KEYS.get(key);
        return s == null ? null : s.kafkaDefault();
    }

    /** The value (parsed) a topic config takes from the broker when the topic does not override it. */
    private static Object brokerParsed(BrokerConfig broker, Def def) {
        // A key set in server.properties wins over every default, in synonym order (ms before minutes before hours).
        for (BrokerSynonym s : def.synonyms()) {
            if (setExplicitly(broker, s.key())) {
                return fromBroker(def, s, broker.get(s.key()));
            }
        }
        for (BrokerSynonym s : def.synonyms()) {
            String v = brokerDefault(s.key());
            if (v != null) {
                return fromBroker(def, s, v);
            }
        }
        return parse(def, def.defaultValue());
    }

    private static Object fromBroker(Def def, BrokerSynonym s, String raw) {
        if (s.factor() == 1) {
            String problem = valueProblem(def.name(), raw);
            if (problem != null) {
                throw new IllegalArgumentException("Broker config " + s.key() + ": " + problem);
            }
            return parse(def, raw);
        }
        long n;
        try {
            n = Long.parseLong(raw.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Invalid value " + raw + " for configuration " + s.key() + ": Not a number of type INT");
        }
        long ms;
        try {
            ms = Math.multiplyExact(n, s.factor());
        } catch (ArithmeticException e) {
            ms = n < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
        if (def.name().equals("retention.ms") && ms < 0) {
            ms = -1; // any negative retention means "forever", as in Kafka
        }
        return ms;
    }

    private static Object effectiveParsed(BrokerConfig broker, Map<String, String> overrides, String name) {
        Def def = DEFS.get(name);
        String override = overrides.get(name);
        return override != null ? parse(def, override) : brokerParsed(broker, def);
    }

    /**
     * The effective value of one topic config with its source and synonyms, as DescribeConfigs reports it: the
     * topic override (TOPIC_CONFIG), then broker keys set in server.properties (STATIC_BROKER_CONFIG, in
     * precedence order), then the default of the first broker key (DEFAULT_CONFIG). The source is that of the
     * first synonym, DEFAULT_CONFIG when there is none.
     *
     * @throws IllegalArgumentException when the name is unknown or a broker key has an invalid value
     */
    public static ConfigValue describe(BrokerConfig broker, Map<String, String> overrides, String name) {
        Def def = DEFS.get(name);
        if (def == null) {
            throw new IllegalArgumentException("Unknown topic config name: " + name);
        }
        List<Synonym> synonyms = new ArrayList<>(3);
        String value;
        String override = overrides.get(name);
        if (override != null) {
            value = valueProblem(name, override) == null ? format(def, parse(def, override)) : override;
            synonyms.add(new Synonym(name, value, Source.TOPIC_CONFIG));
        } else {
            value = format(def, brokerParsed(broker, def));
        }
        if (broker != null) {
            // Kafka's order: this broker's dynamic configs, the cluster-wide ones, server.properties, the default.
            for (BrokerSynonym s : def.synonyms()) {
                String v = broker.dynamicBrokerConfigs().get(s.key());
                if (v != null) {
                    synonyms.add(new Synonym(s.key(), v, Source.DYNAMIC_BROKER_CONFIG));
                }
            }
            for (BrokerSynonym s : def.synonyms()) {
                String v = broker.dynamicDefaultConfigs().get(s.key());
                if (v != null) {
                    synonyms.add(new Synonym(s.key(), v, Source.DYNAMIC_DEFAULT_BROKER_CONFIG));
                }
            }
            for (BrokerSynonym s : def.synonyms()) {
                String v = broker.staticValue(s.key());
                if (v != null) {
                    synonyms.add(new Synonym(s.key(), v, Source.STATIC_BROKER_CONFIG));
                }
            }
        }
        if (!def.synonyms().isEmpty()) {
            String primary = def.synonyms().get(0).key();
            String dflt = brokerDefault(primary);
            if (dflt != null) {
                synonyms.add(new Synonym(primary, dflt, Source.DEFAULT_CONFIG));
            }
        }
        Source source = synonyms.isEmpty() ? Source.DEFAULT_CONFIG : synonyms.get(0).source();
        return new ConfigValue(name, value, source, List.copyOf(synonyms), def.type(), def.doc(), false, false);
    }

    /** Every topic config (sorted by name) with its effective value; see {@link #describe}. */
    public static List<ConfigValue> describeAll(BrokerConfig broker, Map<String, String> overrides) {
        List<ConfigValue> out = new ArrayList<>(DEFS.size());
        for (String name : DEFS.keySet()) {
            out.add(describe(broker, overrides, name));
        }
        return out;
    }

    /** The effective value of a topic config as text (override, else broker, else default). */
    public static String effectiveValue(BrokerConfig broker, Map<String, String> overrides, String name) {
        Def def = DEFS.get(name);
        if (def == null) {
            throw new IllegalArgumentException("Unknown topic config name: " + name);
        }
        return format(def, effectiveParsed(broker, overrides, name));
    }

    /**
     * Why the broker's own settings for topic configs (the {@code log.*} keys and friends in server.properties)
     * are unusable, or null when they are fine.
     */
    public static String validateBroker(BrokerConfig broker) {
        for (Def def : DEFS.values()) {
            try {
                brokerParsed(broker, def);
            } catch (IllegalArgumentException e) {
                return e.getMessage();
            }
        }
        return null;
    }

    // ---------------------------------------------------------------- the log's view

    /**
     * The settings a partition log runs with: each topic config's effective value (override, else broker key,
     * else Kafka's default).
     *
     * @throws IllegalArgumentException when an override or a broker key has an invalid value
     */
    public static LogConfig logConfig(BrokerConfig broker, Map<String, String> overrides) {
        Map<String, String> o = overrides == null ? Map.of() : overrides;
        int segmentIndexBytes = (Integer) effectiveParsed(broker, o, "segment.index.bytes");
        return LogConfig.defaults()
                .withSegmentBytes((Integer) effectiveParsed(broker, o, "segment.bytes"))
                .withSegmentMs((Long) effectiveParsed(broker, o, "segment.ms"))
                // Kafka accepts 4; an index needs room for at least one entry, so the log gets at least 12.
                .withSegmentIndexBytes(Math.max(12, segmentIndexBytes))
                .withIndexIntervalBytes((Integer) effectiveParsed(broker, o, "index.interval.bytes"))
                .withMaxMessageBytes((Integer) effectiveParsed(broker, o, "max.message.bytes"))
                .withFlushIntervalMessages((Long) effectiveParsed(broker, o, "flush.messages"))
                .withMessageTimestampType(TimestampType.forName((String) effectiveParsed(broker, o, "message.timestamp.type")))
                .withRetentionMs((Long) effectiveParsed(broker, o, "retention.ms"))
                .withRetentionBytes((Long) effectiveParsed(broker, o, "retention.bytes"))
                .withCleanup(LogConfig.Cleanup.defaults()
                        .withPolicy(String.join(",", ((List<?>) effectiveParsed(broker, o, "cleanup.policy")).stream()
                                .map(Object::toString).toList()))
                        .withDeleteRetentionMs((Long) effectiveParsed(broker, o, "delete.retention.ms"))
                        .withFileDeleteDelayMs((Long) effectiveParsed(broker, o, "file.delete.delay.ms"))
                        .withMinCleanableDirtyRatio((Double) effectiveParsed(broker, o, "min.cleanable.dirty.ratio"))
                        .withMinCompactionLagMs((Long) effectiveParsed(broker, o, "min.compaction.lag.ms"))
                        .withMaxCompactionLagMs((Long) effectiveParsed(broker, o, "max.compaction.lag.ms")));
    }
}
