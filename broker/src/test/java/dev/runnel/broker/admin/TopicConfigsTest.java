package dev.runnel.broker.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.broker.BrokerConfig;
import dev.runnel.broker.state.TopicConfigs;
import dev.runnel.broker.state.TopicConfigs.ConfigValue;
import dev.runnel.broker.state.TopicConfigs.Source;
import dev.runnel.broker.state.TopicConfigs.Synonym;
import dev.runnel.broker.state.TopicConfigs.Type;
import dev.runnel.log.LogConfig;
import dev.runnel.wire.records.TimestampType;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** Topic config names, defaults, validation messages, effective values with sources, and the log's settings. */
class TopicConfigsTest {

    private static BrokerConfig broker(String... keyValues) {
        Properties p = new Properties();
        for (int i = 0; i + 1 < keyValues.length; i += 2) {
            p.setProperty(keyValues[i], keyValues[i + 1]);
        }
        return BrokerConfig.fromProperties(p);
    }

    @Test
    void theTopicConfigsAreKafkasWithKafkasDefaults() {
        Map<String, String> expected = new HashMap<>();
        expected.put("cleanup.policy", "delete");
        expected.put("compression.gzip.level", "-1");
        expected.put("compression.lz4.level", "9");
        expected.put("compression.type", "producer");
        expected.put("compression.zstd.level", "3");
        expected.put("delete.retention.ms", "86400000");
        expected.put("file.delete.delay.ms", "60000");
        expected.put("flush.messages", "9223372036854775807");
        expected.put("flush.ms", "9223372036854775807");
        expected.put("follower.replication.throttled.replicas", "");
        expected.put("index.interval.bytes", "4096");
        expected.put("leader.replication.throttled.replicas", "");
        expected.put("local.retention.bytes", "-2");
        expected.put("local.retention.ms", "-2");
        expected.put("max.compaction.lag.ms", "9223372036854775807");
        expected.put("max.message.bytes", "1048588");
        expected.put("message.timestamp.after.max.ms", "3600000");
        expected.put("message.timestamp.before.max.ms", "9223372036854775807");
        expected.put("message.timestamp.type", "CreateTime");
        expected.put("min.cleanable.dirty.ratio", "0.5");
        expected.put("min.compaction.lag.ms", "0");
        expected.put("min.insync.replicas", "1");
        expected.put("preallocate", "false");
        expected.put("message.downconversion.enable", "true");
        expected.put("message.format.version", "3.0-IV1");
        expected.put("message.timestamp.difference.max.ms", Long.toString(Long.MAX_VALUE));
        expected.put("remote.log.copy.disable", "false");
        expected.put("remote.log.delete.on.disable", "false");
        expected.put("remote.storage.enable", "false");
        expected.put("retention.bytes", "-1");
        expected.put("retention.ms", "604800000");
        expected.put("segment.bytes", "1073741824");
        expected.put("segment.index.bytes", "10485760");
        expected.put("segment.jitter.ms", "0");
        expected.put("segment.ms", "604800000");
        expected.put("unclean.leader.election.enable", "false");

        List<ConfigValue> all = TopicConfigs.describeAll(BrokerConfig.defaults(), Map.of());
        assertEquals(expected.keySet(), Map.copyOf(TopicConfigs.defs()).keySet());
        assertEquals(all.stream().map(ConfigValue::name).sorted().toList(), all.stream().map(ConfigValue::name).toList(), "sorted by name");
        for (ConfigValue v : all) {
            assertEquals(expected.get(v.name()), v.value(), v.name());
            assertEquals(Source.DEFAULT_CONFIG, v.source(), v.name());
            assertTrue(!v.readOnly() && !v.sensitive(), v.name());
            assertNotNull(v.doc(), v.name());
        }
        assertEquals(Type.LIST, TopicConfigs.def("cleanup.policy").type());
        assertEquals(Type.LONG, TopicConfigs.def("retention.ms").type());
        assertEquals(Type.INT, TopicConfigs.def("segment.bytes").type());
        assertEquals(Type.DOUBLE, TopicConfigs.def("min.cleanable.dirty.ratio").type());
        assertEquals(Type.BOOLEAN, TopicConfigs.def("preallocate").type());
        assertEquals(Type.STRING, TopicConfigs.def("compression.type").type());
    }

    @Test
    void namesAreCheckedBeforeValues() {
        assertEquals("Unknown topic config name: foo.bar", TopicConfigs.validate(Map.of("foo.bar", "1", "retention.ms", "x")));
        assertNull(TopicConfigs.validate(Map.of("message.downconversion.enable", "true")), "Kafka 3.x's, kept for old clients");
        assertNull(TopicConfigs.validate(Map.of("message.format.version", "0.10.0")), "accepted, no effect");
        assertEquals("Invalid value x for configuration message.format.version: Version `x` is not a valid version",
                TopicConfigs.validate(Map.of("message.format.version", "x")));
        assertNull(TopicConfigs.validate(Map.of()));
    }

    @Test
    void valuesAreValidatedWithKafkasMessages() {
        Map<String, String> cases = new java.util.LinkedHashMap<>();
        cases.put("retention.ms=not-a-number", "Invalid value not-a-number for configuration retention.ms: Not a number of type LONG");
        cases.put("retention.ms=-2", "Invalid value -2 for configuration retention.ms: Value must be at least -1");
        cases.put("retention.ms=", "Invalid value  for configuration retention.ms: Not a number of type LONG");
        cases.put("segment.bytes=99999999999", "Invalid value 99999999999 for configuration segment.bytes: Not a number of type INT");
        cases.put("segment.bytes=13", "Invalid value 13 for configuration segment.bytes: Value must be at least 14");
        cases.put("cleanup.policy=foo", "Invalid value foo for configuration cleanup.policy: String must be one of: compact, delete");
        cases.put("cleanup.policy=Compact", "Invalid value Compact for configuration cleanup.policy: String must be one of: compact, delete");
        cases.put("cleanup.policy=compact,,delete", "Configuration 'cleanup.policy' values must not be empty.");
        cases.put("compression.type=LZ4", "Invalid value LZ4 for configuration compression.type: String must be one of: "
                + "uncompressed, zstd, lz4, snappy, gzip, producer");
        cases.put("message.timestamp.type=logappendtime", "Invalid value logappendtime for configuration message.timestamp.type: "
                + "String must be one of: CreateTime, LogAppendTime");
        cases.put("preallocate=yes", "Invalid value yes for configuration preallocate: Expected value to be either true or false");
        cases.put("min.cleanable.dirty.ratio=1.5", "Invalid value 1.5 for configuration min.cleanable.dirty.ratio: Value must be no more than 1");
        cases.put("min.cleanable.dirty.ratio=abc", "Invalid value abc for configuration min.cleanable.dirty.ratio: Not a number of type DOUBLE");
        cases.put("compression.gzip.level=0", "Invalid value 0 for configuration compression.gzip.level: Value must be between 1 and 9 or equal to -1");
        cases.put("compression.zstd.level=-131073", "Invalid value -131073 for configuration compression.zstd.level: Value must be at least -131072");
        cases.put("segment.index.bytes=2", "Invalid value 2 for configuration segment.index.bytes: Value must be at least 4");
        cases.put("max.message.bytes=-1", "Invalid value -1 for configuration max.message.bytes: Value must be at least 0");
        cases.put("leader.replication.throttled.replicas=a:b", "Invalid value [a:b] for configuration leader.replication.throttled.replicas: "
                + "leader.replication.throttled.replicas must be the literal '*' or a list of replicas in the following format: "
                + "[partitionId]:[brokerId],[partitionId]:[brokerId],...");
        cases.forEach((kv, message) -> {
            int eq = kv.indexOf('=');
            assertEquals(message, TopicConfigs.validate(Map.of(kv.substring(0, eq), kv.substring(eq + 1))), kv);
        });
        for (String ok : List.of("retention.ms= 100 ", "retention.ms=+5", "cleanup.policy=compact, delete", "cleanup.policy=",
                "preallocate=TRUE", "leader.replication.throttled.replicas=*", "leader.replication.throttled.replicas=0:1, 1:1",
                "retention.bytes=-5", "compression.type=zstd", "segment.bytes=1024", "segment.index.bytes=4")) {
            int eq = ok.indexOf('=');
            assertNull(TopicConfigs.validate(Map.of(ok.substring(0, eq), ok.substring(eq + 1))), ok);
        }
    }

    @Test
    void rulesAcrossConfigs() {
        assertEquals("conflict topic config setting min.compaction.lag.ms (10) > max.compaction.lag.ms (5)",
                TopicConfigs.validate(Map.of("min.compaction.lag.ms", "10", "max.compaction.lag.ms", "5")));
        assertEquals("Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage.",
                TopicConfigs.validate(Map.of("remote.storage.enable", "true")));
        assertNull(TopicConfigs.validate(Map.of("remote.storage.enable", "false")));
        // The other side of the rule may come from the broker.
        BrokerConfig b = broker("log.cleaner.max.compaction.lag.ms", "100");
        assertEquals("conflict topic config setting min.compaction.lag.ms (200) > max.compaction.lag.ms (100)",
                TopicConfigs.validate(b, Map.of("min.compaction.lag.ms", "200")));
    }

    @Test
    void valuesAreStoredInCanonicalForm() {
        assertEquals(Map.of("retention.ms", "100", "cleanup.policy", "compact,delete", "preallocate", "true",
                        "min.cleanable.dirty.ratio", "1.0"),
                TopicConfigs.normalize(Map.of("retention.ms", " 100 ", "cleanup.policy", " compact , delete ", "preallocate", "TRUE",
                        "min.cleanable.dirty.ratio", "1")));
    }

    @Test
    void anOverrideIsATopicConfigWithItsBrokerSynonymsBehindIt() {
        ConfigValue v = TopicConfigs.describe(BrokerConfig.defaults(), Map.of("cleanup.policy", "compact"), "cleanup.policy");
        assertEquals("compact", v.value());
        assertEquals(Source.TOPIC_CONFIG, v.source());
        assertEquals(List.of(new Synonym("cleanup.policy", "compact", Source.TOPIC_CONFIG),
                new Synonym("log.cleanup.policy", "delete", Source.DEFAULT_CONFIG)), v.synonyms());

        ConfigValue segment = TopicConfigs.describe(BrokerConfig.defaults(), Map.of(), "segment.bytes");
        assertEquals(List.of(new Synonym("log.segment.bytes", "1073741824", Source.DEFAULT_CONFIG)), segment.synonyms());
        // Kafka lists no synonym when the first broker key (log.retention.ms) has no default.
        assertEquals(List.of(), TopicConfigs.describe(BrokerConfig.defaults(), Map.of(), "retention.ms").synonyms());
        assertEquals(List.of(), TopicConfigs.describe(BrokerConfig.defaults(), Map.of(), "remote.storage.enable").synonyms());
    }

    @Test
    void brokerKeysDecideWhenTheTopicDoesNotOverride() {
        BrokerConfig b = broker("log.retention.hours", "24", "log.segment.bytes", "2000000", "num.partitions", "3");
        ConfigValue retention = TopicConfigs.describe(b, Map.of(), "retention.ms");
        assertEquals("86400000", retention.value());
        assertEquals(Source.STATIC_BROKER_CONFIG, retention.source());
        assertEquals(List.of(new Synonym("log.retention.hours", "24", Source.STATIC_BROKER_CONFIG)), retention.synonyms());

        ConfigValue segment = TopicConfigs.describe(b, Map.of(), "segment.bytes");
        assertEquals("2000000", segment.value());
        assertEquals(Source.STATIC_BROKER_CONFIG, segment.source());
        assertEquals(List.of(new Synonym("log.segment.bytes", "2000000", Source.STATIC_BROKER_CONFIG),
                new Synonym("log.segment.bytes", "1073741824", Source.DEFAULT_CONFIG)), segment.synonyms());

        ConfigValue overridden = TopicConfigs.describe(b, Map.of("segment.bytes", "3000000"), "segment.bytes");
        assertEquals("3000000", overridden.value());
        assertEquals(Source.TOPIC_CONFIG, overridden.source());
        assertEquals(3, overridden.synonyms().size());

        // log.retention.ms wins over minutes and hours; minutes over hours.
        assertEquals("5000", TopicConfigs.effectiveValue(broker("log.retention.ms", "5000", "log.retention.minutes", "1",
                "log.retention.hours", "1"), Map.of(), "retention.ms"));
        assertEquals("120000", TopicConfigs.effectiveValue(broker("log.retention.minutes", "2", "log.retention.hours", "1"),
                Map.of(), "retention.ms"));
        assertEquals("-1", TopicConfigs.effectiveValue(broker("log.retention.hours", "-1"), Map.of(), "retention.ms"));
        assertEquals("3600000", TopicConfigs.effectiveValue(broker("log.roll.hours", "1"), Map.of(), "segment.ms"));
    }

    @Test
    void aBrokerKeyWithAnInvalidValueIsRefusedBeforeAnyTopicUsesIt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> broker("log.retention.hours", "lots"));
        assertTrue(e.getMessage().startsWith("Invalid value lots for configuration log.retention.hours: Not a number of type INT"),
                e.getMessage());
        // the broker key gets its topic config's rule: segment.bytes is at least 14
        e = assertThrows(IllegalArgumentException.class, () -> broker("log.segment.bytes", "13"));
        assertTrue(e.getMessage().startsWith("Invalid value 13 for configuration log.segment.bytes: Value must be at least 14"),
                e.getMessage());
        assertNull(TopicConfigs.validateBroker(BrokerConfig.defaults()));
    }

    @Test
    void theLogRunsWithTheEffectiveValues() {
        assertEquals(LogConfig.defaults(), TopicConfigs.logConfig(BrokerConfig.defaults(), Map.of()));
        LogConfig c = TopicConfigs.logConfig(broker("log.retention.hours", "1", "message.max.bytes", "5000"),
                Map.of("segment.bytes", "1024", "message.timestamp.type", "LogAppendTime", "retention.bytes", "77",
                        "segment.ms", "60000", "index.interval.bytes", "10", "flush.messages", "3", "segment.index.bytes", "4"));
        assertEquals(1024, c.segmentBytes());
        assertEquals(60_000, c.segmentMs());
        assertEquals(12, c.segmentIndexBytes(), "room for one index entry at least");
        assertEquals(10, c.indexIntervalBytes());
        assertEquals(5000, c.maxMessageBytes());
        assertEquals(3, c.flushIntervalMessages());
        assertEquals(TimestampType.LOG_APPEND_TIME, c.messageTimestampType());
        assertEquals(3_600_000, c.retentionMs());
        assertEquals(77, c.retentionBytes());
    }

    @Test
    void brokerSynonymsAreListedWithKafkasDefaults() {
        Map<String, String> d = TopicConfigs.brokerSynonymDefaults();
        assertEquals("86400000", d.get("log.cleaner.delete.retention.ms"));
        assertTrue(d.containsKey("log.retention.ms"));
        assertNull(d.get("log.retention.ms"));
        assertEquals("168", d.get("log.retention.hours"));
        assertEquals(Type.INT, TopicConfigs.brokerSynonymType("log.retention.hours"));
        assertEquals(Type.LONG, TopicConfigs.brokerSynonymType("log.retention.ms"));
        assertNull(TopicConfigs.brokerSynonymType("num.partitions"));
    }
}
