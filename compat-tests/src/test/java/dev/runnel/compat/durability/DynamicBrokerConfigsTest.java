package dev.runnel.compat.durability;

import static dev.runnel.compat.durability.RetentionClients.offset;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.ChildProcess;
import dev.runnel.compat.support.ChildProcess.Result;
import dev.runnel.compat.support.Clients;
import dev.runnel.compat.support.KafkaConfigsTool;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Kafka's dynamic broker configs on a single node, driven by Kafka's own {@code kafka-configs} (each test runs
 * Kafka 4.4.0's {@code org.apache.kafka.tools.ConfigCommand}, which sends IncrementalAlterConfigs for brokers, and
 * Kafka 3.9.1's {@code kafka.admin.ConfigCommand}, which sends the legacy AlterConfigs; see {@link KafkaConfigsTool})
 * and by the stock Java admin (IncrementalAlterConfigs), and seen by stock clients: a cluster-wide {@code log.retention.ms} deletes old segments
 * of a topic without its own retention, a per-broker {@code message.max.bytes} decides whether a producer's large
 * record is taken, DescribeConfigs reports Kafka's sources, read-only keys get Kafka's refusal, and everything
 * survives a restart.
 */
class DynamicBrokerConfigsTest {
    private static final String CONFIG_COMMAND = "kafka.admin.ConfigCommand";
    private static final String PAD = "x".repeat(100);

    @RegisterExtension
    static final Broker broker = Broker.create().with("log.retention.check.interval.ms", "100");

    /** Each test leaves no dynamic configs behind for the next. */
    @AfterEach
    void clearDynamicConfigs() throws Exception {
        try (Admin admin = Clients.admin(broker)) {
            for (String name : List.of("", Integer.toString(Broker.NODE_ID))) {
                ConfigResource r = new ConfigResource(ConfigResource.Type.BROKER, name);
                Config c = admin.describeConfigs(List.of(r)).all().get(10, TimeUnit.SECONDS).get(r);
                List<AlterConfigOp> ops = new ArrayList<>();
                for (ConfigEntry e : c.entries()) {
                    if (e.source() == ConfigEntry.ConfigSource.DYNAMIC_BROKER_CONFIG
                            || e.source() == ConfigEntry.ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG) {
                        ops.add(new AlterConfigOp(new ConfigEntry(e.name(), ""), AlterConfigOp.OpType.DELETE));
                    }
                }
                if (!ops.isEmpty()) {
                    admin.incrementalAlterConfigs(Map.of(r, ops)).all().get(10, TimeUnit.SECONDS);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(KafkaConfigsTool.class)
    void aClusterDefaultRetentionDeletesOldSegmentsOfTopicsWithoutTheirOwn(KafkaConfigsTool tool) throws Exception {
        String follows = Clients.uniqueTopic("dyn-retention");
        String own = Clients.uniqueTopic("dyn-retention-own");
        RetentionClients.createTopic(broker, follows, Map.of("segment.bytes", "1024"));
        RetentionClients.createTopic(broker, own, Map.of("segment.bytes", "1024", "retention.ms", "86400000"));
        long twoHoursAgo = System.currentTimeMillis() - 7_200_000L;
        try (KafkaProducer<String, String> producer = Clients.producer(broker)) {
            for (String topic : List.of(follows, own)) {
                for (int i = 0; i < 20; i++) {
                    producer.send(new ProducerRecord<>(topic, 0, twoHoursAgo, "old" + i, PAD)).get(10, TimeUnit.SECONDS);
                }
                producer.send(new ProducerRecord<>(topic, 0, "fresh", PAD)).get(10, TimeUnit.SECONDS);
            }
        }
        TopicPartition followsTp = new TopicPartition(follows, 0);
        assertEquals(0, offset(broker, followsTp, OffsetSpec.earliest()), "Kafka's 7 days keep two-hour-old records");

        Result set = configs(tool, "--alter", "--entity-type", "brokers", "--entity-default", "--add-config", "log.retention.ms=3600000");
        assertEquals(0, set.exitCode(), set.describe());

        long t0 = System.nanoTime();
        Await.untilPasses(Clients.TIMEOUT, () -> assertTrue(offset(broker, followsTp, OffsetSpec.earliest()) > 10,
                "old segments of the topic without retention.ms deleted"));
        System.out.printf("[compat] segments past the new cluster-wide log.retention.ms deleted %d ms after kafka-configs returned%n",
                (System.nanoTime() - t0) / 1_000_000);
        assertEquals(0, offset(broker, new TopicPartition(own, 0), OffsetSpec.earliest()), "the topic's own retention.ms wins");

        Result described = configs(tool, "--describe", "--entity-type", "brokers", "--entity-default");
        assertEquals(0, described.exitCode(), described.describe());
        assertTrue(described.stdout().contains("Default configs for brokers in the cluster are:"), described.describe());
        assertTrue(described.stdout().contains(
                "log.retention.ms=3600000 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=3600000}"),
                described.describe());

        try (Admin admin = Clients.admin(broker)) {
            ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, follows);
            ConfigEntry retention = admin.describeConfigs(List.of(topic), new DescribeConfigsOptions().includeSynonyms(true))
                    .all().get(10, TimeUnit.SECONDS).get(topic).get("retention.ms");
            assertEquals("3600000", retention.value());
            assertEquals(ConfigEntry.ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG, retention.source());
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(KafkaConfigsTool.class)
    void aPerBrokerMessageMaxBytesDecidesWhetherAStockProducersRecordIsTaken(KafkaConfigsTool tool) throws Exception {
        String topic = Clients.uniqueTopic("dyn-message-size");
        Clients.createTopic(broker, topic, 1);
        String big = "b".repeat(200_000);
        try (KafkaProducer<String, String> producer = Clients.producer(broker, Map.of(
                ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 5_000_000, ProducerConfig.COMPRESSION_TYPE_CONFIG, "none"))) {
            producer.send(new ProducerRecord<>(topic, 0, "before", big)).get(10, TimeUnit.SECONDS);

            Result set = configs(tool, "--alter", "--entity-type", "brokers", "--entity-name", Integer.toString(Broker.NODE_ID),
                    "--add-config", "message.max.bytes=100000");
            assertEquals(0, set.exitCode(), set.describe());
            ExecutionException refused = assertThrows(ExecutionException.class,
                    () -> producer.send(new ProducerRecord<>(topic, 0, "during", big)).get(10, TimeUnit.SECONDS));
            assertInstanceOf(RecordTooLargeException.class, refused.getCause(), "MESSAGE_TOO_LARGE");

            Result all = configs(tool, "--describe", "--entity-type", "brokers", "--entity-name", Integer.toString(Broker.NODE_ID), "--all");
            assertEquals(0, all.exitCode(), all.describe());
            assertTrue(all.stdout().contains(
                    "message.max.bytes=100000 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:message.max.bytes=100000, "
                            + "DEFAULT_CONFIG:message.max.bytes=1048588}"), all.describe());
            assertTrue(all.stdout().contains("log.dirs=" + broker.logDir() + " sensitive=false synonyms={STATIC_BROKER_CONFIG:log.dirs="),
                    all.describe());

            Result deleted = configs(tool, "--alter", "--entity-type", "brokers", "--entity-name", Integer.toString(Broker.NODE_ID),
                    "--delete-config", "message.max.bytes");
            assertEquals(0, deleted.exitCode(), deleted.describe());
            producer.send(new ProducerRecord<>(topic, 0, "after", big)).get(10, TimeUnit.SECONDS);
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(KafkaConfigsTool.class)
    void readOnlyKeysAreRefusedWithKafkasMessage(KafkaConfigsTool tool) throws Exception {
        Result logDirs = configs(tool, "--alter", "--entity-type", "brokers", "--entity-name", Integer.toString(Broker.NODE_ID),
                "--add-config", "log.dirs=/tmp/elsewhere");
        assertNotEquals(0, logDirs.exitCode(), logDirs.describe());
        String out = logDirs.stdout() + logDirs.stderr();
        assertTrue(out.contains("InvalidRequestException") && out.contains("Cannot update these configs dynamically: Set(log.dirs)"),
                logDirs.describe());

        try (Admin admin = Clients.admin(broker)) {
            ConfigResource cluster = new ConfigResource(ConfigResource.Type.BROKER, "");
            ExecutionException e = assertThrows(ExecutionException.class, () -> admin.incrementalAlterConfigs(Map.of(cluster,
                    List.of(new AlterConfigOp(new ConfigEntry("broker.id", "5"), AlterConfigOp.OpType.SET)))).all().get(10, TimeUnit.SECONDS));
            assertInstanceOf(InvalidRequestException.class, e.getCause());
            assertEquals("Cannot update these configs dynamically: Set(broker.id)", e.getCause().getMessage());
            Config dflt = admin.describeConfigs(List.of(cluster)).all().get(10, TimeUnit.SECONDS).get(cluster);
            assertTrue(dflt.entries().isEmpty(), "nothing stored: " + dflt);
        }
    }

    @Test
    void dynamicConfigsSurviveARestart() throws Exception {
        try (Broker own = Broker.create().start()) {
            String topic = Clients.uniqueTopic("dyn-restart");
            RetentionClients.createTopic(own, topic, Map.of());
            try (Admin admin = Clients.admin(own)) {
                admin.incrementalAlterConfigs(Map.of(
                        new ConfigResource(ConfigResource.Type.BROKER, ""),
                        List.of(new AlterConfigOp(new ConfigEntry("log.retention.ms", "3600000"), AlterConfigOp.OpType.SET)),
                        new ConfigResource(ConfigResource.Type.BROKER, Integer.toString(Broker.NODE_ID)),
                        List.of(new AlterConfigOp(new ConfigEntry("max.connections.per.ip", "50"), AlterConfigOp.OpType.SET))))
                        .all().get(10, TimeUnit.SECONDS);
            }
            own.restart();
            try (Admin admin = Clients.admin(own)) {
                ConfigResource self = new ConfigResource(ConfigResource.Type.BROKER, Integer.toString(Broker.NODE_ID));
                ConfigResource t = new ConfigResource(ConfigResource.Type.TOPIC, topic);
                Map<ConfigResource, Config> after = admin.describeConfigs(List.of(self, t)).all().get(10, TimeUnit.SECONDS);
                ConfigEntry perIp = after.get(self).get("max.connections.per.ip");
                assertEquals("50", perIp.value());
                assertEquals(ConfigEntry.ConfigSource.DYNAMIC_BROKER_CONFIG, perIp.source());
                ConfigEntry retention = after.get(self).get("log.retention.ms");
                assertEquals("3600000", retention.value());
                assertEquals(ConfigEntry.ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG, retention.source());
                assertEquals("3600000", after.get(t).get("retention.ms").value(), "the topic follows after the restart");
            }
            assertTrue(Files.readString(own.logDir().resolve(".runnel-broker-configs.properties")).contains("default.log.retention.ms=3600000"));
        }
    }

    /** {@code kafka-configs --bootstrap-server <broker> args...} of the given Kafka release. */
    static Result configs(KafkaConfigsTool tool, String... args) throws Exception {
        return tool.run(broker.bootstrapServers(), args);
    }
}
