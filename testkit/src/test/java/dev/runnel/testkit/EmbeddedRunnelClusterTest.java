package dev.runnel.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.junit.jupiter.api.Test;

/** The embedded cluster API: three nodes in this JVM, seen by stock kafka-clients. */
class EmbeddedRunnelClusterTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void threeNodesFormOneClusterAndANodeComesBackAfterAStop() throws Exception {
        Path root;
        long t0 = System.nanoTime();
        try (EmbeddedRunnelCluster cluster = EmbeddedRunnel.cluster(3).topic("orders", 6).start()) {
            System.out.printf("[testkit] 3-node cluster ready in %d ms: %s%n", (System.nanoTime() - t0) / 1_000_000, cluster);
            root = cluster.dataDir(1).getParent();
            assertEquals(Set.of(1, 2, 3), cluster.nodeIds());
            assertEquals(Set.of(1, 2, 3), cluster.runningNodeIds());
            assertEquals(3, cluster.bootstrapServers().split(",").length, cluster.bootstrapServers());
            assertEquals("127.0.0.1:" + cluster.port(2), cluster.bootstrapServers(2));
            for (int id = 1; id <= 3; id++) {
                assertEquals(Set.of(1, 2, 3), cluster.liveBrokerIds(id), "brokers node " + id + " lists");
            }
            int controller = cluster.activeControllerId();
            assertTrue(Set.of(1, 2, 3).contains(controller), "controller " + controller);
            assertEquals(controller, cluster.awaitActiveController(WAIT));

            // Every node answers for the whole cluster: three brokers, the topic's leaders spread over them.
            for (int id = 1; id <= 3; id++) {
                try (Admin admin = Admin.create(Map.of("bootstrap.servers", cluster.bootstrapServers(id)))) {
                    Set<Integer> brokers = new TreeSet<>();
                    for (Node n : admin.describeCluster().nodes().get(10, TimeUnit.SECONDS)) {
                        brokers.add(n.id());
                    }
                    assertEquals(Set.of(1, 2, 3), brokers, "DescribeCluster through node " + id);
                }
                // Metadata (what producers use) through this node: the topic's leaders spread over the three.
                try (var producer = KafkaClients.producer(cluster.bootstrapServers(id))) {
                    List<PartitionInfo> partitions = producer.partitionsFor("orders");
                    assertEquals(6, partitions.size());
                    Set<Integer> leaders = new TreeSet<>();
                    for (PartitionInfo p : partitions) {
                        leaders.add(p.leader().id());
                    }
                    assertEquals(Set.of(1, 2, 3), leaders, "leaders of orders through node " + id);
                }
            }
            KafkaClients.send(cluster.bootstrapServers(), "orders", "a", "b", "c");

            // A replicated topic, and one with more replicas than brokers, which the controller refuses.
            cluster.createTopic("replicated", 2, 3, Map.of());
            assertEquals(3, cluster.node(1).broker().cluster().partition("replicated", 0).replicas().size());
            IllegalArgumentException tooMany = assertThrows(IllegalArgumentException.class,
                    () -> cluster.createTopic("too-many-replicas", 1, 4, Map.of()));
            assertTrue(tooMany.getMessage().contains("INVALID_REPLICATION_FACTOR"), tooMany.getMessage());

            // A node that is not the controller: stopped, listed no more, started again with its data and ports.
            int other = controller == 1 ? 2 : 1;
            int port = cluster.port(other);
            cluster.stop(other);
            assertFalse(cluster.isRunning(other));
            assertThrows(IllegalStateException.class, () -> cluster.node(other));
            cluster.awaitBrokers(WAIT);
            Set<Integer> survivors = new TreeSet<>(Set.of(1, 2, 3));
            survivors.remove(other);
            assertEquals(survivors, cluster.liveBrokerIds(controller));
            cluster.createTopic("while-one-is-down", 2);

            cluster.restart(other);
            assertEquals(port, cluster.port(other));
            cluster.awaitBrokers(Set.of(1, 2, 3), WAIT);
            assertEquals(Set.of(1, 2, 3), cluster.liveBrokerIds(other));
            assertTrue(cluster.node(other).broker().cluster().image().topic("while-one-is-down") != null,
                    "the restarted node caught up with the topic created while it was down");
            KafkaClients.send(cluster.bootstrapServers(), "orders", "d");
            assertNotEquals(-1, cluster.activeControllerId());
        }
        assertFalse(Files.exists(root), root + " should be gone");
    }

    @Test
    void aKilledControllerIsReplacedAndWithoutTheLivenessProbeItsBrokerFencedOnlyWhenItsSessionExpires() {
        try (EmbeddedRunnelCluster cluster = EmbeddedRunnel.cluster(3).property("broker.session.timeout.ms", "10000")
                .property("runnel.controller.liveness.probe.interval.ms", "0").start()) {
            int controller = cluster.awaitActiveController(WAIT);
            long t0 = System.nanoTime();
            cluster.kill(controller);
            long killedMs = (System.nanoTime() - t0) / 1_000_000;
            int next = cluster.awaitActiveController(WAIT);
            long electedMs = (System.nanoTime() - t0) / 1_000_000;
            assertNotEquals(controller, next);
            Set<Integer> survivors = new TreeSet<>(Set.of(1, 2, 3));
            survivors.remove(controller);
            // No controlled shutdown: the new controller still lists the killed broker until its session expires.
            assertTrue(cluster.liveBrokerIds(next).contains(controller), "node " + controller + " still registered and "
                    + "unfenced " + electedMs + " ms after the kill (session timeout 10 s): " + cluster.liveBrokerIds(next));
            cluster.awaitBrokers(survivors, WAIT);
            long fencedMs = (System.nanoTime() - t0) / 1_000_000;
            System.out.printf("[testkit] controller %d killed in %d ms; node %d controller %d ms after the kill; killed "
                    + "broker fenced %d ms after the kill%n", controller, killedMs, next, electedMs, fencedMs);
            assertTrue(fencedMs >= 5_000, "fenced by the session timeout, not at once: " + fencedMs + " ms");
            cluster.createTopic("after-the-kill", 3);
            cluster.start(controller);
            cluster.awaitBrokers(Set.of(1, 2, 3), WAIT);
        }
    }

    @Test
    void aKilledBrokerIsFencedByTheLivenessProbeLongBeforeItsSessionExpires() {
        try (EmbeddedRunnelCluster cluster = EmbeddedRunnel.cluster(3).property("broker.session.timeout.ms", "30000").start()) {
            int controller = cluster.awaitActiveController(WAIT);
            int victim = controller == 1 ? 2 : 1;
            long t0 = System.nanoTime();
            cluster.kill(victim);
            Set<Integer> survivors = new TreeSet<>(Set.of(1, 2, 3));
            survivors.remove(victim);
            cluster.awaitBrokers(survivors, WAIT);
            long fencedMs = (System.nanoTime() - t0) / 1_000_000;
            System.out.printf("[testkit] broker %d killed; fenced by the liveness probe %d ms later (session timeout 30 s)%n",
                    victim, fencedMs);
            assertTrue(fencedMs < 10_000, "fenced by the probe, not the 30 s session timeout: " + fencedMs + " ms");
        }
    }

    @Test
    void aClusterNeedsANode() {
        assertThrows(IllegalArgumentException.class, () -> EmbeddedRunnel.cluster(0));
        assertThrows(IllegalArgumentException.class, () -> EmbeddedRunnel.cluster(3).nodeProperty(4, "broker.rack", "a"));
    }
}
