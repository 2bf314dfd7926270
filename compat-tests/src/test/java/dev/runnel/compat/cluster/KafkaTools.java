package dev.runnel.compat.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.ChildProcess;
import dev.runnel.compat.support.ChildProcess.Result;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Kafka's own command-line tools (kafka-tools 4.3.0, child JVMs as in {@code KafkaTopicsCliTest}) against a
 * cluster, and parsers for the parts of their output the cluster tests read.
 *
 * <p>Formats relied on (from the tools' source):
 * <ul>
 *   <li>{@code kafka-topics --describe} (TopicCommand): a line
 *       {@code Topic: t	TopicId: ...	PartitionCount: 6	ReplicationFactor: 1	Configs: ...}, then per partition
 *       {@code 	Topic: t	Partition: 0	Leader: 2	Replicas: 2	Isr: 2	Elr: 	LastKnownElr: }.</li>
 *   <li>{@code kafka-metadata-quorum describe --status} (MetadataQuorumCommand.handleDescribeStatus):
 *       {@code ClusterId:              <id>}, {@code LeaderId:               <n>}, {@code LeaderEpoch: <n>},
 *       {@code HighWatermark: <n>}, {@code MaxFollowerLag: <n>}, {@code MaxFollowerLagTimeMs: <n>},
 *       {@code CurrentVoters:          [{"id": 1, "directoryId": "...", "endpoints": ["CONTROLLER://h:p"]}, ...]},
 *       {@code CurrentObservers:       [...]} (directoryId and endpoints only when known).</li>
 *   <li>{@code kafka-metadata-quorum describe --replication}: a whitespace-padded table with the header
 *       {@code NodeId DirectoryId LogEndOffset Lag LastFetchTimestamp LastCaughtUpTimestamp Status} and one row per
 *       voter and observer, Status {@code Leader}, {@code Follower} or {@code Observer}.</li>
 * </ul>
 */
final class KafkaTools {

    static final String TOPIC_COMMAND = "org.apache.kafka.tools.TopicCommand";
    static final String METADATA_QUORUM_COMMAND = "org.apache.kafka.tools.MetadataQuorumCommand";

    private KafkaTools() {
    }

    /** {@code kafka-topics --bootstrap-server <bootstrap> args...} */
    static Result topics(String bootstrap, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("--bootstrap-server", bootstrap));
        all.addAll(List.of(args));
        return ChildProcess.kafkaTool(TOPIC_COMMAND, null, all.toArray(String[]::new));
    }

    /** {@code kafka-metadata-quorum --bootstrap-server <bootstrap> args...} */
    static Result quorum(String bootstrap, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("--bootstrap-server", bootstrap));
        all.addAll(List.of(args));
        return ChildProcess.kafkaTool(METADATA_QUORUM_COMMAND, null, all.toArray(String[]::new));
    }

    /** {@code kafka-metadata-quorum --bootstrap-controller <controllers> args...} */
    static Result quorumThroughControllers(String controllers, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("--bootstrap-controller", controllers));
        all.addAll(List.of(args));
        return ChildProcess.kafkaTool(METADATA_QUORUM_COMMAND, null, all.toArray(String[]::new));
    }

    /** A tool of Kafka 3.9 ({@code kafka-tools} 3.9.1, from the kafka-3.9-tools module's classpath file). */
    static Result tool39(String mainClass, String... args) throws Exception {
        String file = System.getProperty("runnel.kafka39ToolsClasspathFile");
        org.junit.jupiter.api.Assumptions.assumeTrue(file != null && java.nio.file.Files.isRegularFile(java.nio.file.Path.of(file)),
                "Kafka 3.9's tools need the classpath file of the compat-tests/kafka-3.9-tools module; got " + file);
        List<String> command = new ArrayList<>(List.of(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp", java.nio.file.Files.readString(java.nio.file.Path.of(file)).trim(), mainClass));
        command.addAll(List.of(args));
        return dev.runnel.compat.support.ChildProcess.run(command, null, dev.runnel.compat.support.ChildProcess.DEFAULT_TIMEOUT);
    }

    /** Stdout and stderr together: where a tool prints an error differs between tools and versions. */
    static String allOutput(Result r) {
        return r.stdout() + "\n" + r.stderr();
    }

    // ------------------------------------------------------------------ kafka-topics --describe

    /** One partition line of {@code kafka-topics --describe}. */
    record PartitionLine(int partition, String leader, String replicas, String isr) {
    }

    /** What {@code kafka-topics --describe --topic t} printed. */
    record TopicDescribe(String topic, String topicId, int partitionCount, int replicationFactor,
                         Map<Integer, PartitionLine> partitions, String raw) {

        /** Leader id to the number of partitions it leads. */
        Map<String, Integer> leaderCounts() {
            Map<String, Integer> counts = new TreeMap<>();
            partitions.values().forEach(p -> counts.merge(p.leader(), 1, Integer::sum));
            return counts;
        }
    }

    private static final Pattern TOPIC_LINE = Pattern.compile(
            "^Topic: (\\S+)\\s+TopicId: (\\S+)\\s+PartitionCount: (\\d+)\\s+ReplicationFactor: (\\d+)\\s+Configs:(.*)$");
    private static final Pattern PARTITION_LINE = Pattern.compile(
            "^\\s+Topic: (\\S+)\\s+Partition: (\\d+)\\s+Leader: (\\S+)\\s+Replicas: (\\S*)\\s+Isr: (\\S*).*$");

    static TopicDescribe describeTopic(String bootstrap, String topic) throws Exception {
        Result result = topics(bootstrap, "--describe", "--topic", topic).assertExitCode(0);
        String topicId = null;
        Integer partitionCount = null;
        Integer replicationFactor = null;
        Map<Integer, PartitionLine> partitions = new TreeMap<>();
        for (String line : result.stdoutLines()) {
            Matcher t = TOPIC_LINE.matcher(line);
            Matcher p = PARTITION_LINE.matcher(line);
            if (t.matches()) {
                assertEquals(topic, t.group(1), line);
                topicId = t.group(2);
                partitionCount = Integer.parseInt(t.group(3));
                replicationFactor = Integer.parseInt(t.group(4));
            } else if (p.matches()) {
                assertEquals(topic, p.group(1), line);
                int partition = Integer.parseInt(p.group(2));
                partitions.put(partition, new PartitionLine(partition, p.group(3), p.group(4), p.group(5)));
            }
        }
        assertNotNull(partitionCount, "a topic line in --describe output: " + result.describe());
        assertEquals(partitionCount, partitions.size(), "partition lines in " + result.describe());
        return new TopicDescribe(topic, topicId, partitionCount, replicationFactor, partitions, result.stdout());
    }

    /** {@code --describe} through {@code bootstrap}, repeated until it shows {@code partitions} partitions, each led. */
    static TopicDescribe describeTopicOnceItHas(String bootstrap, String topic, int partitions, Duration timeout)
            throws Exception {
        TopicDescribe[] seen = new TopicDescribe[1];
        Await.untilPasses(timeout, () -> {
            TopicDescribe d = describeTopic(bootstrap, topic);
            assertEquals(partitions, d.partitionCount(), "PartitionCount through " + bootstrap + " in\n" + d.raw());
            for (PartitionLine p : d.partitions().values()) {
                assertTrue(p.leader().matches("\\d+"), "a leader for partition " + p.partition() + " through "
                        + bootstrap + " in\n" + d.raw());
            }
            seen[0] = d;
        });
        return seen[0];
    }

    // ------------------------------------------------------------------ kafka-metadata-quorum describe --status

    /** What {@code describe --status} printed. */
    record QuorumStatus(String clusterId, int leaderId, int leaderEpoch, long highWatermark, List<Integer> voterIds,
                        List<Integer> observerIds, String raw) {
    }

    private static final Pattern NODE_ID = Pattern.compile("\"id\":\\s*(-?\\d+)");

    static QuorumStatus parseStatus(Result result) {
        Map<String, String> fields = new TreeMap<>();
        for (String line : result.stdoutLines()) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).matches("[A-Za-z]+")) {
                fields.put(line.substring(0, colon), line.substring(colon + 1).trim());
            }
        }
        for (String key : List.of("ClusterId", "LeaderId", "LeaderEpoch", "HighWatermark", "CurrentVoters", "CurrentObservers")) {
            assertTrue(fields.containsKey(key), "a '" + key + ":' line in " + result.describe());
        }
        return new QuorumStatus(fields.get("ClusterId"), Integer.parseInt(fields.get("LeaderId")),
                Integer.parseInt(fields.get("LeaderEpoch")), Long.parseLong(fields.get("HighWatermark")),
                nodeIds(fields.get("CurrentVoters")), nodeIds(fields.get("CurrentObservers")), result.stdout());
    }

    /** The {@code "id": n} values of a {@code [{"id": 1, ...}, ...]} list, in order. */
    static List<Integer> nodeIds(String list) {
        List<Integer> ids = new ArrayList<>();
        Matcher m = NODE_ID.matcher(list);
        while (m.find()) {
            ids.add(Integer.parseInt(m.group(1)));
        }
        return ids;
    }

    // ------------------------------------------------------------------ kafka-metadata-quorum describe --replication

    /** One row of {@code describe --replication}. */
    record ReplicationRow(int nodeId, String directoryId, long logEndOffset, long lag, String status) {
    }

    static List<ReplicationRow> parseReplication(Result result) {
        List<ReplicationRow> rows = new ArrayList<>();
        boolean header = false;
        for (String line : result.stdoutLines()) {
            String[] cols = line.trim().split("\\s+");
            if (cols.length >= 7 && cols[0].equals("NodeId") && cols[cols.length - 1].equals("Status")) {
                header = true;
            } else if (header && cols.length >= 7 && cols[0].matches("-?\\d+")) {
                rows.add(new ReplicationRow(Integer.parseInt(cols[0]), cols[1], Long.parseLong(cols[2]),
                        Long.parseLong(cols[3]), cols[cols.length - 1]));
            }
        }
        assertTrue(header, "a 'NodeId DirectoryId LogEndOffset Lag ... Status' header in " + result.describe());
        return rows;
    }
}
