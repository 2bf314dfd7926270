package dev.runnel.compat.legacy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.ChildProcess;
import dev.runnel.compat.support.ChildProcess.Result;
import dev.runnel.compat.support.Clients;
import dev.runnel.compat.support.StoredBatches;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Node.js clients from npm (installed on first use into target/) that speak only old API versions (Produce v0-2
 * with legacy message sets, Fetch v0-2, GroupCoordinator v0, ...): kafka-node 5.0.0 (Admin creates a topic, Producer
 * writes plain and gzip messages, ConsumerGroup reads them all and commits) and no-kafka 3.4.4 (gzip producer,
 * GroupConsumer with commits).
 */
class LegacyNodeClientsTest {

    @RegisterExtension
    static final Broker broker = Broker.create();

    @Test
    void kafkaNodeAdminProducerAndConsumerGroup() throws Exception {
        Path script = install("kafka-node", "5.0.0", "kafka_node_roundtrip.js");
        String topic = Clients.uniqueTopic("legacy-kafka-node");
        String group = "group-" + topic;
        Result r = ChildProcess.run(List.of("/usr/bin/node", script.toString(), broker.bootstrapServers(), topic, group, "6"),
                null, Duration.ofSeconds(90)).assertExitCode(0);
        assertEquals(List.of("SENT {\"" + topic + "\":{\"0\":0}}", "SENT {\"" + topic + "\":{\"0\":3}}"), lines(r, "SENT "),
                r.describe());
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            expected.add("RECORD " + i + " key-" + i + " value-" + i);
        }
        assertEquals(expected, lines(r, "RECORD "), r.describe());
        assertEquals(List.of("COMMITTED"), lines(r, "COMMITTED"));

        List<StoredBatches.Batch> batches = StoredBatches.fetchFromStart(broker, topic, 0);
        assertTrue(batches.stream().allMatch(b -> b.magic() == 2 && b.crcValid()), "stored as v2: " + batches);
        assertTrue(batches.stream().anyMatch(b -> b.codec().equals("gzip")), "the gzip send kept its codec: " + batches);
        try (Admin admin = Clients.admin(broker)) {
            assertEquals(6, admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(20, TimeUnit.SECONDS)
                    .get(new TopicPartition(topic, 0)).offset(), "kafka-node's commit, seen by the Java admin");
        }
    }

    @Test
    void noKafkaGzipProducerAndGroupConsumer() throws Exception {
        Path script = install("no-kafka", "3.4.4", "no_kafka_roundtrip.js");
        String topic = Clients.uniqueTopic("legacy-no-kafka");
        Clients.createTopic(broker, topic, 1);
        String group = "group-" + topic;
        Result r = ChildProcess.run(List.of("/usr/bin/node", script.toString(), broker.bootstrapServers(), topic, group, "5"),
                null, Duration.ofSeconds(90)).assertExitCode(0);
        List<String> sent = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            sent.add("SENT " + i + " ok");
            expected.add("RECORD " + i + " key-" + i + " value-" + i);
        }
        assertEquals(sent, lines(r, "SENT "), r.describe());
        assertEquals(expected, lines(r, "RECORD "), r.describe());
        List<StoredBatches.Batch> batches = StoredBatches.fetchFromStart(broker, topic, 0);
        assertTrue(batches.stream().allMatch(b -> b.magic() == 2 && b.codec().equals("gzip")), "gzip batches v2: " + batches);
        try (Admin admin = Clients.admin(broker)) {
            assertEquals(5, admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(20, TimeUnit.SECONDS)
                    .get(new TopicPartition(topic, 0)).offset(), "no-kafka's commit (the next offset to read)");
        }
    }

    /** Installs {@code pkg@version} from npm into target/ (once) and puts {@code script} beside its node_modules. */
    private static Path install(String pkg, String version, String script) throws Exception {
        Path dir = Path.of(System.getProperty("basedir", "."), "target", pkg + "-" + version);
        if (!Files.isDirectory(dir.resolve("node_modules").resolve(pkg))) {
            assumeTrue(Files.isExecutable(Path.of("/usr/bin/npm")) && Files.isExecutable(Path.of("/usr/bin/node")),
                    "node and npm are needed for the " + pkg + " test");
            Files.createDirectories(dir);
            Result r = ChildProcess.run(List.of("/usr/bin/npm", "install", "--prefix", dir.toString(), "--no-audit",
                    "--no-fund", "--loglevel=error", pkg + "@" + version), null, Duration.ofMinutes(3));
            assumeTrue(r.exitCode() == 0, "npm could not install " + pkg + "@" + version + ": " + r.describe());
        }
        Path target = dir.resolve(script);
        Files.copy(Path.of(LegacyNodeClientsTest.class.getResource("/legacy-node/" + script).toURI()), target,
                StandardCopyOption.REPLACE_EXISTING);
        return target;
    }

    private static List<String> lines(Result result, String prefix) {
        return result.stdoutLines().stream().filter(l -> l.startsWith(prefix)).map(String::strip).toList();
    }
}
