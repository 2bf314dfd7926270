package dev.runnel.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.junit.jupiter.api.Test;

/** {@code @RunnelBroker(nodes = 3)}: the class runs against a three-node cluster; fields and parameters get it. */
@RunnelBroker(nodes = 3, topics = "orders:6", properties = "auto.create.topics.enable=false")
class RunnelClusterExtensionTest {
    @BootstrapServers
    static String bootstrapServers;

    @InjectRunnel
    static EmbeddedRunnelCluster cluster;

    @Test
    void theBootstrapListNamesEveryNodeAndTheTopicIsSpreadOverThem(@BootstrapServers String bootstrap,
                                                                    EmbeddedRunnelCluster param) throws Exception {
        assertSame(cluster, param);
        assertEquals(cluster.bootstrapServers(), bootstrap);
        assertEquals(bootstrapServers, bootstrap);
        assertEquals(3, bootstrap.split(",").length, bootstrap);
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            Set<Integer> brokers = new TreeSet<>();
            for (Node n : admin.describeCluster().nodes().get(10, TimeUnit.SECONDS)) {
                brokers.add(n.id());
            }
            assertEquals(Set.of(1, 2, 3), brokers);
            assertEquals("false", admin.describeConfigs(List.of(new org.apache.kafka.common.config.ConfigResource(
                    org.apache.kafka.common.config.ConfigResource.Type.BROKER, "1"))).all().get(10, TimeUnit.SECONDS)
                    .values().iterator().next().get("auto.create.topics.enable").value());
        }
        try (var producer = KafkaClients.producer(bootstrap)) {
            Set<Integer> leaders = new TreeSet<>();
            for (PartitionInfo p : producer.partitionsFor("orders")) {
                leaders.add(p.leader().id());
            }
            assertEquals(Set.of(1, 2, 3), leaders);
        }
        KafkaClients.send(bootstrap, "orders", "o-1");
    }
}
