package dev.runnel.compat.javaclient;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.Clients;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConfigEntry.ConfigSource;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Configs and cluster shape through the Java AdminClient: topic and broker configs under Kafka's
 * names with Kafka's defaults, topic overrides at creation and through incrementalAlterConfigs, and
 * describeCluster of a one-node cluster.
 */
@Tag("java-client")
class AdminConfigsAndClusterTest {

    @RegisterExtension
    static final Broker broker = Broker.create().with("num.partitions", "3");

    private static Admin admin;

    @BeforeAll
    static void connect() {
        System.out.println("[compat] " + Clients.describeVersion());
        admin = Clients.admin(broker);
    }

    @AfterAll
    static void disconnect() {
        if (admin != null) {
            admin.close();
        }
    }

    @Test
    void topicConfigsHaveKafkasNamesAndDefaults() throws Exception {
        String topic = Clients.uniqueTopic("configs");
        admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(20, TimeUnit.SECONDS);

        Config config = describe(new ConfigResource(ConfigResource.Type.TOPIC, topic));
        assertDefault(config, "cleanup.policy", "delete");
        assertDefault(config, "retention.ms", "604800000");
        assertDefault(config, "retention.bytes", "-1");
        assertDefault(config, "segment.bytes", "1073741824");
        assertDefault(config, "max.message.bytes", "1048588");
        // Kafka 4's own format step sets a cluster-wide min.insync.replicas, so only the value is checked.
        assertEquals("1", entry(config, "min.insync.replicas").value(), "min.insync.replicas");
        assertDefault(config, "message.timestamp.type", "CreateTime");
        assertDefault(config, "compression.type", "producer");
    }

    @Test
    void overridesGivenAtCreationAreDescribed() throws Exception {
        String topic = Clients.uniqueTopic("created-with-config");
        admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1)
                .configs(Map.of("retention.ms", "3600000", "cleanup.policy", "compact"))))
                .all().get(20, TimeUnit.SECONDS);
        Config config = describe(new ConfigResource(ConfigResource.Type.TOPIC, topic));
        assertOverride(config, "retention.ms", "3600000");
        assertOverride(config, "cleanup.policy", "compact");
        assertDefault(config, "segment.bytes", "1073741824");
    }

    @Test
    void incrementalAlterConfigsSetsAndRemovesTopicOverrides() throws Exception {
        String topic = Clients.uniqueTopic("altered");
        admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(20, TimeUnit.SECONDS);
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);

        alter(resource, List.of(
                new AlterConfigOp(new ConfigEntry("retention.ms", "86400000"), AlterConfigOp.OpType.SET),
                new AlterConfigOp(new ConfigEntry("max.message.bytes", "2000000"), AlterConfigOp.OpType.SET)));
        // Kafka applies config changes to the broker's view asynchronously; allow it a moment.
        Await.untilPasses(Clients.TIMEOUT, () -> {
            Config altered = describe(resource);
            assertOverride(altered, "retention.ms", "86400000");
            assertOverride(altered, "max.message.bytes", "2000000");
        });

        alter(resource, List.of(new AlterConfigOp(new ConfigEntry("retention.ms", ""), AlterConfigOp.OpType.DELETE)));
        Await.untilPasses(Clients.TIMEOUT, () -> {
            Config reverted = describe(resource);
            assertDefault(reverted, "retention.ms", "604800000");
            assertOverride(reverted, "max.message.bytes", "2000000");
        });
    }

    @Test
    void invalidTopicConfigValuesAreRefused() throws Exception {
        String topic = Clients.uniqueTopic("invalid-config");
        admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(20, TimeUnit.SECONDS);
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);

        ExecutionException e = assertThrows(ExecutionException.class, () -> alter(resource, List.of(
                new AlterConfigOp(new ConfigEntry("retention.ms", "not-a-number"), AlterConfigOp.OpType.SET))));
        assertInstanceOf(InvalidConfigurationException.class, e.getCause(), e.toString());
        assertDefault(describe(resource), "retention.ms", "604800000");
    }

    @Test
    void brokerConfigsHaveKafkasNames() throws Exception {
        Config config = describe(new ConfigResource(ConfigResource.Type.BROKER, Integer.toString(Broker.NODE_ID)));
        ConfigEntry partitions = entry(config, "num.partitions");
        assertEquals("3", partitions.value(), "num.partitions from server.properties");
        assertEquals(ConfigSource.STATIC_BROKER_CONFIG, partitions.source(), "num.partitions source");

        assertDefault(config, "log.segment.bytes", "1073741824");
        assertDefault(config, "message.max.bytes", "1048588");
        assertDefault(config, "default.replication.factor", "1");
        assertDefault(config, "auto.create.topics.enable", "true");
        assertDefault(config, "socket.request.max.bytes", "104857600");
        assertEquals(Integer.toString(Broker.NODE_ID), entry(config, "node.id").value(), "node.id");
    }

    @Test
    void describeClusterShowsOneNodeThatIsAlsoController() throws Exception {
        DescribeClusterResult cluster = admin.describeCluster();
        Collection<Node> nodes = cluster.nodes().get(20, TimeUnit.SECONDS);
        assertEquals(1, nodes.size(), "one node: " + nodes);
        Node node = nodes.iterator().next();
        assertEquals(Broker.NODE_ID, node.id());
        assertEquals(broker.host(), node.host());
        assertEquals(broker.port(), node.port());

        Node controller = cluster.controller().get(20, TimeUnit.SECONDS);
        assertNotNull(controller, "a controller is reported");
        assertEquals(Broker.NODE_ID, controller.id(), "the only node is the controller");

        String clusterId = cluster.clusterId().get(20, TimeUnit.SECONDS);
        assertNotNull(clusterId, "cluster id");
        assertFalse(clusterId.isBlank(), "cluster id");
        assertEquals(clusterId, admin.describeCluster().clusterId().get(20, TimeUnit.SECONDS), "cluster id is stable");
    }

    private static Config describe(ConfigResource resource) throws Exception {
        return admin.describeConfigs(List.of(resource)).all().get(20, TimeUnit.SECONDS).get(resource);
    }

    private static void alter(ConfigResource resource, Collection<AlterConfigOp> ops) throws Exception {
        admin.incrementalAlterConfigs(Map.of(resource, ops)).all().get(20, TimeUnit.SECONDS);
    }

    private static ConfigEntry entry(Config config, String name) {
        ConfigEntry entry = config.get(name);
        assertNotNull(entry, name + " is described; got " + config.entries().stream().map(ConfigEntry::name).sorted().toList());
        return entry;
    }

    private static void assertDefault(Config config, String name, String value) {
        ConfigEntry entry = entry(config, name);
        assertEquals(value, entry.value(), name);
        assertEquals(ConfigSource.DEFAULT_CONFIG, entry.source(), name + " comes from the defaults: " + entry);
    }

    private static void assertOverride(Config config, String name, String value) {
        ConfigEntry entry = entry(config, name);
        assertEquals(value, entry.value(), name);
        assertEquals(ConfigSource.DYNAMIC_TOPIC_CONFIG, entry.source(), name + " is a topic override: " + entry);
    }
}
