package dev.runnel.compat.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.broker.BrokerConfig;
import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.Clients;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * The cluster harness itself, against what the broker does today: the properties it writes use Kafka's KRaft keys
 * (and the shipped {@code config/cluster/} files agree with them); a node without {@code process.roles} is today's
 * single node, which the harness starts, pauses, resumes, stops, kills and restarts on its port and directory.
 * Not tagged {@code cluster}: it needs no cluster support from the broker.
 */
class ClusterProcessesSelfTest {

    @Test
    void theHarnessWritesKafkasKraftKeysForEachRole() throws Exception {
        try (ClusterProcesses cluster = ClusterProcesses.builder()
                .roles(ClusterProcesses.COMBINED, ClusterProcesses.COMBINED, ClusterProcesses.BROKER, ClusterProcesses.CONTROLLER)
                .with("num.partitions", "2")
                .with(3, "broker.rack", "r3")
                .build()) {
            cluster.writeConfigs();
            String voters = "1@127.0.0.1:" + cluster.node(1).controllerPort() + ",2@127.0.0.1:" + cluster.node(2).controllerPort()
                    + ",4@127.0.0.1:" + cluster.node(4).controllerPort();
            assertEquals(voters, cluster.quorumVoters());
            assertEquals(Set.of(1, 2, 4), cluster.voterIds());
            assertEquals(Set.of(1, 2, 3), cluster.brokerIds());
            assertEquals(cluster.bootstrap(1) + "," + cluster.bootstrap(2) + "," + cluster.bootstrap(3), cluster.bootstrapServers());
            assertEquals(cluster.bootstrap(1) + "," + cluster.bootstrap(3), cluster.bootstrapServersExcept(2));
            Set<Integer> ports = new TreeSet<>();
            for (ClusterProcesses.Node n : cluster.nodes()) {
                ports.add(n.clientPort());
                ports.add(n.controllerPort());
                Properties p = load(n.configFile());
                System.out.println("[cluster] " + n.configFile() + ": " + new java.util.TreeMap<>(p));
                assertEquals(Integer.toString(n.id()), p.getProperty("node.id"));
                assertEquals(n.roles(), p.getProperty("process.roles"));
                assertEquals(voters, p.getProperty("controller.quorum.voters"));
                assertEquals("CONTROLLER", p.getProperty("controller.listener.names"));
                assertEquals("CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT", p.getProperty("listener.security.protocol.map"));
                assertEquals(n.logDir().toString(), p.getProperty("log.dirs"));
                assertEquals("2", p.getProperty("num.partitions"));
                assertTrue(Files.isDirectory(n.logDir()), "log dir created");
                String listeners = p.getProperty("listeners");
                assertEquals(n.isBroker(), listeners.contains("PLAINTEXT://127.0.0.1:" + n.clientPort()), listeners);
                assertEquals(n.isVoter(), listeners.contains("CONTROLLER://127.0.0.1:" + n.controllerPort()), listeners);
                if (n.isBroker()) {
                    assertEquals("PLAINTEXT://127.0.0.1:" + n.clientPort(), p.getProperty("advertised.listeners"));
                    assertEquals("PLAINTEXT", p.getProperty("inter.broker.listener.name"));
                } else {
                    assertNull(p.getProperty("advertised.listeners"), "a controller-only node advertises no client listener");
                }
                BrokerConfig.fromFile(n.configFile());
            }
            assertEquals("r3", load(cluster.node(3).configFile()).getProperty("broker.rack"));
            assertEquals(8, ports.size(), "distinct ports: " + ports);
        }
    }

    @Test
    void theShippedClusterConfigFilesDescribeOneThreeNodeCluster() throws Exception {
        Path dir = repositoryRoot().resolve("config").resolve("cluster");
        String voters = "1@localhost:9093,2@localhost:9095,3@localhost:9097";
        for (int id = 1; id <= 3; id++) {
            Path file = dir.resolve("n" + id + ".properties");
            Properties p = load(file);
            int client = 9090 + 2 * id;
            int controller = client + 1;
            assertEquals(Integer.toString(id), p.getProperty("node.id"), file.toString());
            assertEquals("broker,controller", p.getProperty("process.roles"), file.toString());
            assertEquals(voters, p.getProperty("controller.quorum.voters"), file.toString());
            assertEquals("PLAINTEXT://localhost:" + client + ",CONTROLLER://localhost:" + controller, p.getProperty("listeners"));
            assertEquals("PLAINTEXT://localhost:" + client, p.getProperty("advertised.listeners"));
            assertEquals("CONTROLLER", p.getProperty("controller.listener.names"));
            assertEquals("PLAINTEXT", p.getProperty("inter.broker.listener.name"));
            assertEquals("CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT", p.getProperty("listener.security.protocol.map"));
            assertEquals("./data/n" + id, p.getProperty("log.dirs"));
            BrokerConfig.fromFile(file);
        }
    }

    @Test
    void aNodeWithoutProcessRolesIsTodaysSingleNodeAndTheHarnessDrivesItsLives() throws Exception {
        try (ClusterProcesses cluster = ClusterProcesses.builder().roles((String) null).build()) {
            cluster.printingTailsOnFailure(() -> {
                ClusterProcesses.Node node = cluster.node(1);
                Properties config = node.config();
                assertNull(config.getProperty("process.roles"));
                assertNull(config.getProperty("controller.quorum.voters"));
                assertEquals("PLAINTEXT://127.0.0.1:" + node.clientPort(), config.getProperty("listeners"));

                cluster.start();
                assertTrue(node.outputOfThisLife().contains(ClusterProcesses.STARTED_LINE), node.outputOfThisLife());
                try (Admin admin = ClusterClients.admin(cluster.bootstrapServers())) {
                    ClusterClients.ClusterView view = ClusterClients.clusterView(admin);
                    System.out.println("[cluster] DescribeCluster of the single node: " + view);
                    assertEquals(Set.of(1), view.brokers());
                }
                String topic = Clients.uniqueTopic("selftest");
                TopicPartition tp = new TopicPartition(topic, 0);
                List<String> written = List.of("a", "b", "c", "d", "e");
                try (Admin admin = ClusterClients.admin(cluster.bootstrapServers())) {
                    admin.createTopics(List.of(new NewTopic(topic, Optional.of(1), Optional.of((short) 1))))
                            .all().get(ClusterClients.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                    ClusterClients.awaitTopic(admin, topic, 1);
                }
                try (KafkaProducer<String, String> producer = ClusterClients.producer(cluster.bootstrapServers(), Map.of())) {
                    for (String v : written) {
                        producer.send(new ProducerRecord<>(topic, 0, v, v)).get(ClusterClients.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                    }
                }

                // SIGSTOP freezes it: the kernel reports it stopped and requests go unanswered; SIGCONT thaws it.
                cluster.pause(1);
                Await.untilPasses(Duration.ofSeconds(5), () -> assertEquals('T', processState(node.pid()), "state of pid " + node.pid()));
                try (Admin probe = ClusterClients.probeAdmin(cluster.bootstrapServers())) {
                    long t0 = System.nanoTime();
                    assertThrows(Exception.class, () -> probe.describeCluster().nodes().get(5, TimeUnit.SECONDS),
                            "a paused node does not answer");
                    System.out.printf("[cluster] a request to the paused node failed after %d ms%n", (System.nanoTime() - t0) / 1_000_000);
                }
                cluster.resume(1);
                assertNotEquals('T', processState(node.pid()));
                try (Admin admin = ClusterClients.admin(cluster.bootstrapServers())) {
                    assertEquals(Set.of(1), ClusterClients.brokerIds(admin), "answers again after SIGCONT");
                }

                // SIGTERM, then a restart on the same port and directory: the records are still there.
                long pid1 = node.pid();
                int exit = cluster.terminate(1);
                System.out.println("[cluster] exit code after SIGTERM: " + exit);
                assertFalse(node.isAlive());
                assertEquals(Optional.of(exit), node.exitCode());
                cluster.restart(1);
                assertNotEquals(pid1, node.pid(), "a new process");
                assertEquals(2, node.lives());
                assertReadBack(cluster, tp, written);

                // kill -9 (exit 137), a restart again: still there.
                assertEquals(137, cluster.kill9(1), "SIGKILL's exit code");
                cluster.restart(1);
                assertEquals(3, node.lives());
                assertReadBack(cluster, tp, written);
                String output = node.output();
                assertTrue(output.contains("=== life 1 ===") && output.contains("=== life 3 ==="), "one output file for all lives");
                assertFalse(node.outputOfThisLife().contains("=== life 2 ==="), "this life's output only");
            });
        }
    }

    private static void assertReadBack(ClusterProcesses cluster, TopicPartition tp, List<String> written) {
        try (KafkaConsumer<String, String> consumer = ClusterClients.consumer(cluster.bootstrapServers(), Map.of())) {
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            List<String> values = new ArrayList<>();
            for (ConsumerRecord<String, String> r : ClusterClients.pollTogether(written.size(), ClusterClients.TIMEOUT, consumer)) {
                values.add(r.value());
            }
            assertEquals(written, values, "records read back from " + tp);
        }
    }

    /** The state letter of /proc/<pid>/stat (R, S, T for stopped, ...). */
    private static char processState(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        return stat.substring(stat.lastIndexOf(')') + 2).charAt(0);
    }

    private static Properties load(Path file) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            p.load(r);
        }
        return p;
    }

    private static Path repositoryRoot() {
        Path dir = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath();
        for (int i = 0; i < 3 && dir != null; i++) {
            if (Files.isDirectory(dir.resolve("config").resolve("cluster"))) {
                return dir;
            }
            dir = dir.getParent();
        }
        throw new IllegalStateException("no config/cluster above " + System.getProperty("user.dir"));
    }
}
