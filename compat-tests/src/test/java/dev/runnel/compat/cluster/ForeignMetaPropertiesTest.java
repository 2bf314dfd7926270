package dev.runnel.compat.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.cluster.ClusterClients.ClusterView;
import dev.runnel.compat.cluster.KafkaTools.QuorumStatus;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.apache.kafka.common.Uuid;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Kafka's {@code meta.properties} ties a log directory to one cluster and one node. A node whose directory says it
 * belongs to another cluster, or to another node, refuses to start and says why; a directory formatted the way
 * {@code kafka-storage format} formats it is accepted, and the cluster takes the id it was formatted with.
 */
@Tag("cluster")
class ForeignMetaPropertiesTest {

    private static final Set<Integer> ALL = Set.of(1, 2, 3);
    private static final Duration REFUSAL_DEADLINE = Duration.ofSeconds(30);
    private static final Pattern NODE_ID_WORDS = Pattern.compile("(?i)node[ ._-]?id");

    @Test
    void aNodeWhoseDirectoryBelongsToAnotherClusterOrNodeRefusesToStart() throws Exception {
        try (ClusterProcesses cluster = ClusterProcesses.threeNodes()) {
            cluster.printingTailsOnFailure(() -> {
                cluster.start();
                List<String> eachNode = cluster.nodes().stream().map(ClusterProcesses.Node::bootstrap).toList();
                Map<String, ClusterView> views = ClusterClients.awaitBrokers(eachNode, ALL, Duration.ofSeconds(30));
                String clusterId = views.values().iterator().next().clusterId();

                // Each node wrote Kafka's meta.properties on its first start: the agreed cluster id, its node id, and
                // a directory id of its own.
                Set<String> directoryIds = new HashSet<>();
                for (ClusterProcesses.Node n : cluster.nodes()) {
                    Properties meta = n.readMetaProperties();
                    System.out.println("[cluster] node " + n.id() + " " + n.metaPropertiesFile() + ": " + meta);
                    assertEquals(clusterId, meta.getProperty("cluster.id"), "cluster.id of node " + n.id());
                    assertEquals(Integer.toString(n.id()), meta.getProperty("node.id"), "node.id of node " + n.id());
                    String directoryId = meta.getProperty("directory.id");
                    assertNotNull(directoryId, "directory.id of node " + n.id());
                    directoryIds.add(directoryId);
                }
                assertEquals(3, directoryIds.size(), "three distinct directory ids: " + directoryIds);

                ClusterProcesses.Node two = cluster.node(2);
                cluster.terminate(2);
                Path metaFile = two.metaPropertiesFile();
                String original = Files.readString(metaFile, StandardCharsets.UTF_8);
                Properties originalMeta = two.readMetaProperties();

                // Another cluster's directory.
                String foreignClusterId = Uuid.randomUuid().toString();
                Properties foreign = new Properties();
                foreign.putAll(originalMeta);
                foreign.setProperty("cluster.id", foreignClusterId);
                writeMetaProperties(metaFile, foreign);
                cluster.spawn(2);
                int exit = cluster.awaitExit(2, REFUSAL_DEADLINE);
                String said = two.outputOfThisLife();
                System.out.println("[cluster] node 2 with cluster.id " + foreignClusterId + " (the cluster's is " + clusterId
                        + ") exited " + exit + ", saying:\n" + ClusterProcesses.lastLines(said, 30));
                assertNotEquals(0, exit, "a node whose directory belongs to another cluster exits non-zero");
                assertTrue(said.contains("meta.properties"), "the message names meta.properties:\n" + said);
                assertTrue(said.contains("cluster.id") || said.contains("cluster id"), "the message names the cluster id:\n" + said);
                assertTrue(said.contains(foreignClusterId), "the message names the directory's cluster id " + foreignClusterId + ":\n" + said);
                assertTrue(said.contains(clusterId), "the message names the cluster's id " + clusterId + ":\n" + said);

                // Another node's directory (of this cluster).
                Properties otherNode = new Properties();
                otherNode.putAll(originalMeta);
                otherNode.setProperty("node.id", "3");
                writeMetaProperties(metaFile, otherNode);
                cluster.spawn(2);
                exit = cluster.awaitExit(2, REFUSAL_DEADLINE);
                said = two.outputOfThisLife();
                System.out.println("[cluster] node 2 with node.id 3 in meta.properties exited " + exit + ", saying:\n"
                        + ClusterProcesses.lastLines(said, 30));
                assertNotEquals(0, exit, "a node whose directory belongs to another node exits non-zero");
                assertTrue(said.contains("meta.properties"), "the message names meta.properties:\n" + said);
                assertTrue(NODE_ID_WORDS.matcher(said).find(), "the message names the node id:\n" + said);

                // Its own meta.properties back: it rejoins.
                Files.writeString(metaFile, original, StandardCharsets.UTF_8);
                cluster.restart(2);
                Map<String, ClusterView> again = ClusterClients.awaitBrokers(eachNode, ALL, Duration.ofSeconds(30));
                assertEquals(clusterId, again.values().iterator().next().clusterId(), "the same cluster");
                assertEquals(originalMeta, two.readMetaProperties(), "its meta.properties as before");
            });
        }
    }

    @Test
    void directoriesFormattedKafkaStyleAreAcceptedWithTheirClusterId() throws Exception {
        try (ClusterProcesses cluster = ClusterProcesses.threeNodes()) {
            cluster.printingTailsOnFailure(() -> {
                // What `kafka-storage format --cluster-id <id> --config nI.properties` leaves in each log directory.
                String clusterId = Uuid.randomUuid().toString();
                Map<Integer, String> directoryIds = new TreeMap<>();
                for (ClusterProcesses.Node n : cluster.nodes()) {
                    String directoryId = Uuid.randomUuid().toString();
                    directoryIds.put(n.id(), directoryId);
                    Properties meta = new Properties();
                    meta.setProperty("version", "1");
                    meta.setProperty("cluster.id", clusterId);
                    meta.setProperty("node.id", Integer.toString(n.id()));
                    meta.setProperty("directory.id", directoryId);
                    writeMetaProperties(n.metaPropertiesFile(), meta);
                }
                System.out.println("[cluster] formatted three directories with cluster.id " + clusterId + ", directory ids "
                        + directoryIds);

                cluster.start();
                List<String> eachNode = cluster.nodes().stream().map(ClusterProcesses.Node::bootstrap).toList();
                Map<String, ClusterView> views = ClusterClients.awaitBrokers(eachNode, ALL, Duration.ofSeconds(30));
                for (Map.Entry<String, ClusterView> e : views.entrySet()) {
                    assertEquals(clusterId, e.getValue().clusterId(), "DescribeCluster's cluster id through " + e.getKey());
                }
                QuorumStatus status = KafkaTools.parseStatus(
                        KafkaTools.quorum(cluster.bootstrap(1), "describe", "--status").assertExitCode(0));
                System.out.println("[cluster] describe --status:\n" + status.raw());
                assertEquals(clusterId, status.clusterId(), "kafka-metadata-quorum's ClusterId");

                for (ClusterProcesses.Node n : cluster.nodes()) {
                    Properties meta = n.readMetaProperties();
                    System.out.println("[cluster] node " + n.id() + " meta.properties after the start: " + meta);
                    assertEquals(clusterId, meta.getProperty("cluster.id"), "cluster.id kept by node " + n.id());
                    assertEquals(Integer.toString(n.id()), meta.getProperty("node.id"), "node.id kept by node " + n.id());
                    assertEquals(directoryIds.get(n.id()), meta.getProperty("directory.id"), "directory.id kept by node " + n.id());
                }
            });
        }
    }

    /** Writes a meta.properties the way Kafka does: a comment header, then key=value lines. */
    static void writeMetaProperties(Path file, Properties meta) throws IOException {
        Files.createDirectories(file.getParent());
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            w.write("#\n#Written by " + ForeignMetaPropertiesTest.class.getSimpleName() + "\n");
            for (Map.Entry<String, String> e : new TreeMap<>(toMap(meta)).entrySet()) {
                w.write(e.getKey() + "=" + e.getValue() + "\n");
            }
        }
    }

    private static Map<String, String> toMap(Properties p) {
        Map<String, String> m = new TreeMap<>();
        p.stringPropertyNames().forEach(k -> m.put(k, p.getProperty(k)));
        return m;
    }
}
