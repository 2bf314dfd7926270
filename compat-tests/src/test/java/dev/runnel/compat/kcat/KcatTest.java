package dev.runnel.compat.kcat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.ChildProcess;
import dev.runnel.compat.support.ChildProcess.Result;
import dev.runnel.compat.support.Clients;
import dev.runnel.compat.support.StoredBatches;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Debian's kcat (librdkafka 2.0.2) against the broker: metadata as JSON, keyed produce from stdin
 * with every compression codec, and a group-less consume from the beginning to the end.
 */
class KcatTest {

    private static final Path KCAT = Path.of("/usr/bin/kcat");
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @RegisterExtension
    static final Broker broker = Broker.create();

    @BeforeAll
    static void kcatIsInstalled() throws Exception {
        assumeTrue(Files.isExecutable(KCAT), "kcat is not installed at " + KCAT + " (Debian package 'kcat'); skipping");
        Result version = ChildProcess.run(List.of(KCAT.toString(), "-V"), null, TIMEOUT);
        System.out.println("[compat] " + version.stdout().lines().filter(l -> l.startsWith("Version")).findFirst()
                .orElse(version.stdout()));
    }

    @Test
    void metadataAsJson() throws Exception {
        String topic = Clients.uniqueTopic("kcat-meta");
        Clients.createTopic(broker, topic, 3);

        Result result = kcat(null, "-L", "-J").assertExitCode(0);
        // Jackson is on the test classpath through kafka-tools.
        JsonNode metadata = new ObjectMapper().readTree(result.stdout());

        JsonNode brokers = metadata.get("brokers");
        assertEquals(1, brokers.size(), "one broker: " + brokers);
        assertEquals(Broker.NODE_ID, brokers.get(0).get("id").asInt());
        assertEquals(broker.bootstrapServers(), brokers.get(0).get("name").asText(), "advertised host:port");
        assertEquals(Broker.NODE_ID, metadata.get("controllerid").asInt(), "controller id");

        JsonNode described = null;
        for (JsonNode t : metadata.get("topics")) {
            if (t.get("topic").asText().equals(topic)) {
                described = t;
            }
        }
        assertNotNull(described, topic + " in " + metadata);
        assertTrue(described.get("error") == null, "no topic error: " + described);
        JsonNode partitions = described.get("partitions");
        assertEquals(3, partitions.size(), "partitions of " + described);
        for (int p = 0; p < 3; p++) {
            JsonNode partition = partitions.get(p);
            assertEquals(p, partition.get("partition").asInt());
            assertEquals(Broker.NODE_ID, partition.get("leader").asInt(), "leader of " + partition);
            assertEquals(1, partition.get("replicas").size(), "replicas of " + partition);
            assertEquals(Broker.NODE_ID, partition.get("replicas").get(0).get("id").asInt());
            assertEquals(1, partition.get("isrs").size(), "isrs of " + partition);
            assertEquals(Broker.NODE_ID, partition.get("isrs").get(0).get("id").asInt());
        }
    }

    @ParameterizedTest(name = "-z {0}")
    @ValueSource(strings = {"none", "gzip", "snappy", "lz4", "zstd"})
    void produceKeyedLinesThenConsumeThemWithoutAGroup(String codec) throws Exception {
        String topic = Clients.uniqueTopic("kcat-" + codec);
        Clients.createTopic(broker, topic, 1);
        StringBuilder stdin = new StringBuilder();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            stdin.append("key-").append(i).append(':').append("value ").append(i).append('\n');
            expected.add("0|" + i + "|key-" + i + "|value " + i);
        }

        kcat(stdin.toString(), "-P", "-t", topic, "-p", "0", "-K:", "-z", codec, "-X", "linger.ms=50").assertExitCode(0);

        Result consumed = kcat(null, "-C", "-t", topic, "-o", "beginning", "-e", "-q",
                "-f", "%p|%o|%k|%s\\n").assertExitCode(0);
        assertEquals(expected, consumed.stdoutLines(), "kcat reads back what kcat wrote");

        // The same records through the Java consumer.
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker)) {
            consumer.assign(Set.of(tp));
            consumer.seekToBeginning(Set.of(tp));
            List<ConsumerRecord<String, String>> records = Clients.pollAtLeast(consumer, 50);
            assertEquals("key-49", records.get(49).key());
            assertEquals("value 49", records.get(49).value());
        }

        // librdkafka before 2.11.1 silently sends uncompressed batches unless the broker advertises
        // Produce v0 (KAFKA-18659): check that the codec really reached the broker. librdkafka also
        // sends a batch uncompressed when compressing would not make it smaller (a lone record),
        // so "none" is allowed next to the codec, but at least one batch must carry it.
        StoredBatches.assertCodec(broker, topic, 0, codec, true);
    }

    @Test
    void consumeAllPartitionsOfAnAutoCreatedTopic() throws Exception {
        String topic = Clients.uniqueTopic("kcat-auto");
        // Produce with kcat to a topic that does not exist yet: librdkafka's metadata request
        // auto-creates it.
        kcat("a\nb\nc\n", "-P", "-t", topic).assertExitCode(0);
        Result consumed = kcat(null, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%s\\n")
                .assertExitCode(0);
        assertEquals(List.of("a", "b", "c"), consumed.stdoutLines().stream().sorted().toList());
    }

    @Test
    void consumeFromATimestampAndFromTheEnd() throws Exception {
        String topic = Clients.uniqueTopic("kcat-offsets");
        Clients.createTopic(broker, topic, 1);
        long base = 1_700_000_000_000L;
        try (KafkaProducer<String, String> producer = Clients.producer(broker)) {
            for (int i = 0; i < 10; i++) {
                producer.send(new ProducerRecord<>(topic, 0, base + i * 1000L, "k" + i, "v" + i)).get(30, TimeUnit.SECONDS);
            }
        }
        // -o s@<ms>: librdkafka looks the offset up by timestamp (ListOffsets).
        Result fromTime = kcat(null, "-C", "-t", topic, "-p", "0", "-o", "s@" + (base + 6500), "-e", "-q",
                "-f", "%o %k %s %T\\n").assertExitCode(0);
        assertEquals(List.of("7 k7 v7 " + (base + 7000), "8 k8 v8 " + (base + 8000), "9 k9 v9 " + (base + 9000)),
                fromTime.stdoutLines(), "records from the timestamp on");
        // -o -2: two before the end (ListOffsets latest).
        Result fromEnd = kcat(null, "-C", "-t", topic, "-p", "0", "-o", "-2", "-e", "-q", "-f", "%o %s\\n")
                .assertExitCode(0);
        assertEquals(List.of("8 v8", "9 v9"), fromEnd.stdoutLines(), "the last two records");
    }

    @Test
    void aCompactedTopicRefusesKeylessMessagesAndTakesKeyedOnes() throws Exception {
        String topic = Clients.uniqueTopic("kcat-compacted");
        try (org.apache.kafka.clients.admin.Admin admin = Clients.admin(broker)) {
            admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(topic, java.util.Optional.of(1),
                    java.util.Optional.of((short) 1)).configs(java.util.Map.of("cleanup.policy", "compact"))))
                    .all().get(30, TimeUnit.SECONDS);
        }
        // Without -K every message has a null key: the broker refuses them (INVALID_RECORD) and kcat says so.
        Result keyless = kcat("no-key-1\nno-key-2\n", "-P", "-t", topic, "-p", "0");
        System.out.println("[compat] kcat keyless produce to a compacted topic: exit " + keyless.exitCode());
        assertTrue(keyless.exitCode() != 0, "kcat reports failed deliveries: " + keyless.describe());
        // librdkafka's text for INVALID_RECORD (87), once per message.
        assertEquals(2, keyless.stderr().lines()
                .filter(l -> l.equals("% Delivery failed for message: Broker: Broker failed to validate record")).count(),
                keyless.describe());

        kcat("k1:keyed-1\n", "-P", "-t", topic, "-p", "0", "-K:").assertExitCode(0);
        Result read = kcat(null, "-C", "-t", topic, "-p", "0", "-o", "beginning", "-e", "-q", "-f", "%o %k %s\n")
                .assertExitCode(0);
        assertEquals(List.of("0 k1 keyed-1"), read.stdoutLines(), "only the keyed message, at offset 0");
    }

    private static Result kcat(String stdin, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(KCAT.toString(), "-b", broker.bootstrapServers(),
                "-m", "15", "-X", "socket.timeout.ms=10000"));
        command.addAll(List.of(args));
        return ChildProcess.run(command, stdin, TIMEOUT);
    }
}
