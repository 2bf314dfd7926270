package dev.runnel.compat.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.ChildProcess;
import dev.runnel.compat.support.ChildProcess.Result;
import dev.runnel.compat.support.Clients;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An operator drives the broker with Kafka's own {@code kafka-topics} (TopicCommand from the
 * kafka-tools artifact, in a child JVM): create, list, describe, alter partitions, delete.
 */
class KafkaTopicsCliTest {

    private static final String MAIN = "org.apache.kafka.tools.TopicCommand";
    private static final int DEFAULT_PARTITIONS = 2;

    @RegisterExtension
    static final Broker broker = Broker.create().with("num.partitions", Integer.toString(DEFAULT_PARTITIONS));

    @Test
    void createListDescribeAlterDelete() throws Exception {
        String topic = Clients.uniqueTopic("cli-topic");

        Result created = topics("--create", "--topic", topic, "--partitions", "3", "--replication-factor", "1")
                .assertExitCode(0);
        assertTrue(created.stdout().contains("Created topic " + topic + "."), created.describe());

        // Kafka makes a new topic visible asynchronously; a broker is allowed a moment.
        Await.untilPasses(Duration.ofSeconds(10),
                () -> assertTrue(topics("--list").assertExitCode(0).stdoutLines().contains(topic), "listed"));

        Description description = describeOnceItHas(topic, 3);
        assertEquals(1, description.replicationFactor, "ReplicationFactor");
        assertEquals(List.of("0", "1", "2"), description.partitions(), "one line per partition");
        description.assertEveryPartitionOnlyOnThisNode();

        topics("--alter", "--topic", topic, "--partitions", "5").assertExitCode(0);
        Description grown = describeOnceItHas(topic, 5);
        assertEquals(List.of("0", "1", "2", "3", "4"), grown.partitions());
        grown.assertEveryPartitionOnlyOnThisNode();

        Result shrink = topics("--alter", "--topic", topic, "--partitions", "2");
        assertNotEquals(0, shrink.exitCode(), "shrinking fails: " + shrink.describe());
        assertTrue(shrink.stdout().contains("InvalidPartitionsException") || shrink.stderr().contains("InvalidPartitionsException"),
                "the tool reports InvalidPartitionsException: " + shrink.describe());
        assertEquals(5, describe(topic).partitionCount, "still 5 partitions");

        topics("--delete", "--topic", topic).assertExitCode(0);
        // Kafka propagates a deletion asynchronously; a broker is allowed a moment.
        Await.untilPasses(Duration.ofSeconds(10), () -> {
            List<String> after = topics("--list").assertExitCode(0).stdoutLines();
            assertFalse(after.contains(topic), "deleted topic not listed: " + after);
        });
    }

    @Test
    void createWithoutPartitionsOrReplicationFactorUsesBrokerDefaults() throws Exception {
        String topic = Clients.uniqueTopic("cli-defaults");
        topics("--create", "--topic", topic).assertExitCode(0);
        Description description = describeOnceItHas(topic, DEFAULT_PARTITIONS);
        assertEquals(1, description.replicationFactor, "default.replication.factor");
        description.assertEveryPartitionOnlyOnThisNode();
    }

    @Test
    void createWithConfigOverrideShowsItInDescribe() throws Exception {
        String topic = Clients.uniqueTopic("cli-config");
        topics("--create", "--topic", topic, "--partitions", "1", "--config", "retention.ms=3600000").assertExitCode(0);
        Description description = describeOnceItHas(topic, 1);
        // Only the value is checked: real Kafka 4 also lists its cluster-wide min.insync.replicas here.
        assertEquals("3600000", description.configs.get("retention.ms"), "overrides shown by --describe: "
                + description.configs);
    }

    @Test
    void replicationFactorLargerThanTheClusterFails() throws Exception {
        String topic = Clients.uniqueTopic("cli-rf3");
        Result result = topics("--create", "--topic", topic, "--partitions", "1", "--replication-factor", "3");
        assertNotEquals(0, result.exitCode(), result.describe());
        assertTrue(result.stdout().contains("InvalidReplicationFactorException")
                        || result.stderr().contains("InvalidReplicationFactorException"),
                "the tool reports InvalidReplicationFactorException: " + result.describe());
        assertFalse(topics("--list").assertExitCode(0).stdoutLines().contains(topic), "not created");
    }

    private static Result topics(String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("--bootstrap-server", broker.bootstrapServers()));
        all.addAll(List.of(args));
        return ChildProcess.kafkaTool(MAIN, null, all.toArray(String[]::new));
    }

    private static final Pattern TOPIC_LINE = Pattern.compile(
            "^Topic: (\\S+)\\s+TopicId: (\\S+)\\s+PartitionCount: (\\d+)\\s+ReplicationFactor: (\\d+)\\s+Configs:(.*)$");
    private static final Pattern PARTITION_LINE = Pattern.compile(
            "^\\s+Topic: (\\S+)\\s+Partition: (\\d+)\\s+Leader: (\\S+)\\s+Replicas: (\\S*)\\s+Isr: (\\S*).*$");

    /** What {@code kafka-topics --describe} printed for one topic. */
    private record Description(int partitionCount, int replicationFactor, Map<String, String> configs,
                               List<String[]> partitionLines, String raw) {

        List<String> partitions() {
            return partitionLines.stream().map(l -> l[1]).toList();
        }

        void assertEveryPartitionOnlyOnThisNode() {
            String node = Integer.toString(Broker.NODE_ID);
            for (String[] line : partitionLines) {
                assertEquals(node, line[2], "Leader of partition " + line[1] + " in\n" + raw);
                assertEquals(node, line[3], "Replicas of partition " + line[1] + " in\n" + raw);
                assertEquals(node, line[4], "Isr of partition " + line[1] + " in\n" + raw);
            }
        }
    }

    /** {@code --describe}, repeated until it shows {@code partitions} partitions (or 10 s pass). */
    private static Description describeOnceItHas(String topic, int partitions) throws Exception {
        Description[] seen = new Description[1];
        Await.untilPasses(Duration.ofSeconds(10), () -> {
            seen[0] = describe(topic);
            assertEquals(partitions, seen[0].partitionCount, "PartitionCount in\n" + seen[0].raw);
        });
        return seen[0];
    }

    private static Description describe(String topic) throws Exception {
        Result result = topics("--describe", "--topic", topic).assertExitCode(0);
        Integer partitionCount = null;
        Integer replicationFactor = null;
        Map<String, String> configs = Map.of();
        List<String[]> partitions = new ArrayList<>();
        for (String line : result.stdoutLines()) {
            Matcher t = TOPIC_LINE.matcher(line);
            Matcher p = PARTITION_LINE.matcher(line);
            if (t.matches()) {
                assertEquals(topic, t.group(1), line);
                assertNotEquals("", t.group(2), "TopicId");
                partitionCount = Integer.parseInt(t.group(3));
                replicationFactor = Integer.parseInt(t.group(4));
                configs = parseConfigs(t.group(5).trim());
            } else if (p.matches()) {
                assertEquals(topic, p.group(1), line);
                partitions.add(new String[] {p.group(1), p.group(2), p.group(3), p.group(4), p.group(5)});
            }
        }
        assertTrue(partitionCount != null, "a topic line in --describe output: " + result.describe());
        assertEquals(partitionCount, partitions.size(), "partition lines in " + result.describe());
        return new Description(partitionCount, replicationFactor, configs, partitions, result.stdout());
    }

    private static Map<String, String> parseConfigs(String configs) {
        Map<String, String> parsed = new java.util.TreeMap<>();
        if (configs.isEmpty()) {
            return parsed;
        }
        for (String pair : configs.split(",")) {
            int eq = pair.indexOf('=');
            parsed.put(pair.substring(0, eq), pair.substring(eq + 1));
        }
        return parsed;
    }
}
