package dev.runnel.compat.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.ChildProcess.Result;
import dev.runnel.compat.support.Clients;
import dev.runnel.compat.support.KafkaConfigsTool;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Dynamic broker configs in a three-node cluster, set with Kafka 4.4's {@code kafka-configs} through node 1 only:
 * a cluster-wide default travels through the metadata log to every broker (each describes it as
 * DYNAMIC_DEFAULT_BROKER_CONFIG and applies it: old segments go on every leader), while a per-broker value is
 * applied by the named broker alone (a stock producer's large record is refused by a partition that broker leads
 * and taken by one another broker leads).
 */
@Tag("cluster")
class DynamicBrokerConfigsClusterTest {
    private static final Set<Integer> ALL = Set.of(1, 2, 3);
    private static final String PAD = "x".repeat(100);

    @RegisterExtension
    static final ClusterProcesses cluster = ClusterProcesses.builder().combined(3)
            .with("log.retention.check.interval.ms", "100").build();

    @BeforeAll
    static void theThreeNodesFormOneCluster() throws Exception {
        ClusterClients.awaitBrokers(cluster.nodes().stream().map(ClusterProcesses.Node::bootstrap).toList(), ALL, Duration.ofSeconds(30));
    }

    @Test
    void aClusterDefaultIsAppliedByEveryBrokerAndAPerBrokerValueOnlyByThatBroker() throws Exception {
        String topic = Clients.uniqueTopic("dyn-cluster");
        Map<Integer, Integer> partitionLedBy = new java.util.concurrent.ConcurrentHashMap<>();
        try (Admin admin = ClusterClients.admin(cluster.bootstrap(1))) {
            admin.createTopics(List.of(new NewTopic(topic, 6, (short) 1).configs(Map.of("segment.bytes", "1024"))))
                    .all().get(30, TimeUnit.SECONDS);
            Await.untilPasses(Duration.ofSeconds(30), () -> {
                TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS).get(topic);
                Map<Integer, Integer> leaders = new HashMap<>();
                for (TopicPartitionInfo p : d.partitions()) {
                    assertTrue(p.leader() != null && !p.leader().isEmpty(), "leader of " + p);
                    leaders.putIfAbsent(p.leader().id(), p.partition());
                }
                assertEquals(ALL, leaders.keySet(), "every broker leads a partition");
                partitionLedBy.putAll(leaders);
            });
        }
        long twoHoursAgo = System.currentTimeMillis() - 7_200_000L;
        try (KafkaProducer<String, String> producer = ClusterClients.producer(cluster.bootstrapServers(), Map.of())) {
            for (int partition : partitionLedBy.values()) {
                for (int i = 0; i < 20; i++) {
                    producer.send(new ProducerRecord<>(topic, partition, twoHoursAgo, "old" + i, PAD)).get(10, TimeUnit.SECONDS);
                }
                producer.send(new ProducerRecord<>(topic, partition, "fresh", PAD)).get(10, TimeUnit.SECONDS);
            }
        }

        // ---- the cluster-wide default, set through node 1
        Result set = configs(1, "--alter", "--entity-type", "brokers", "--entity-default", "--add-config", "log.retention.ms=3600000");
        assertEquals(0, set.exitCode(), set.describe());
        try (Admin admin = ClusterClients.admin(cluster.bootstrapServers())) {
            for (int broker : ALL) {
                Await.untilPasses(Duration.ofSeconds(20), () -> {
                    ConfigEntry e = brokerConfig(admin, broker).get("log.retention.ms");
                    assertEquals("3600000", e.value(), "broker " + broker);
                    assertEquals(ConfigEntry.ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG, e.source(), "broker " + broker);
                });
            }
            long t0 = System.nanoTime();
            for (Map.Entry<Integer, Integer> led : partitionLedBy.entrySet()) {
                TopicPartition tp = new TopicPartition(topic, led.getValue());
                Await.untilPasses(Duration.ofSeconds(30), () -> {
                    long earliest = admin.listOffsets(Map.of(tp, OffsetSpec.earliest())).partitionResult(tp).get(10, TimeUnit.SECONDS).offset();
                    assertTrue(earliest > 10, "old segments of " + tp + " (led by broker " + led.getKey() + ") deleted: earliest " + earliest);
                });
            }
            System.out.printf("[cluster] old segments gone on all three leaders %d ms after the default was described everywhere%n",
                    (System.nanoTime() - t0) / 1_000_000);
        }

        // ---- a per-broker value for broker 2, also sent through node 1 (the admin client takes it to broker 2)
        Result perBroker = configs(1, "--alter", "--entity-type", "brokers", "--entity-name", "2", "--add-config", "message.max.bytes=100000");
        assertEquals(0, perBroker.exitCode(), perBroker.describe());
        try (Admin admin = ClusterClients.admin(cluster.bootstrapServers())) {
            ConfigEntry two = brokerConfig(admin, 2).get("message.max.bytes");
            assertEquals("100000", two.value());
            assertEquals(ConfigEntry.ConfigSource.DYNAMIC_BROKER_CONFIG, two.source());
            for (int other : List.of(1, 3)) {
                ConfigEntry e = brokerConfig(admin, other).get("message.max.bytes");
                assertEquals("1048588", e.value(), "broker " + other);
                assertEquals(ConfigEntry.ConfigSource.DEFAULT_CONFIG, e.source(), "broker " + other);
            }
        }
        try (Admin admin = ClusterClients.admin(cluster.bootstrapServers())) {
            // room in a segment for the large records (max.message.bytes stays the broker's)
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.TOPIC, topic), List.of(new AlterConfigOp(
                    new ConfigEntry("segment.bytes", "10485760"), AlterConfigOp.OpType.SET)))).all().get(30, TimeUnit.SECONDS);
        }
        String big = "b".repeat(200_000);
        try (KafkaProducer<String, String> producer = ClusterClients.producer(cluster.bootstrapServers(), Map.of(
                ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 5_000_000, ProducerConfig.COMPRESSION_TYPE_CONFIG, "none"))) {
            ExecutionException refused = assertThrows(ExecutionException.class,
                    () -> producer.send(new ProducerRecord<>(topic, partitionLedBy.get(2), "big", big)).get(20, TimeUnit.SECONDS));
            assertInstanceOf(RecordTooLargeException.class, refused.getCause(), "broker 2 applies its message.max.bytes");
            producer.send(new ProducerRecord<>(topic, partitionLedBy.get(1), "big", big)).get(20, TimeUnit.SECONDS);
            producer.send(new ProducerRecord<>(topic, partitionLedBy.get(3), "big", big)).get(20, TimeUnit.SECONDS);
        }
    }

    private static Config brokerConfig(Admin admin, int broker) throws Exception {
        ConfigResource r = new ConfigResource(ConfigResource.Type.BROKER, Integer.toString(broker));
        return admin.describeConfigs(List.of(r)).all().get(10, TimeUnit.SECONDS).get(r);
    }

    /** Kafka 4.4's {@code kafka-configs --bootstrap-server <node> args...} (3.9.1's runs in DynamicBrokerConfigsTest). */
    private static Result configs(int node, String... args) throws Exception {
        return KafkaConfigsTool.KAFKA_4_4.run(cluster.bootstrap(node), args);
    }
}
