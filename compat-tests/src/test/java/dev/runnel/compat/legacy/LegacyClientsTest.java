package dev.runnel.compat.legacy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.ChildProcess;
import dev.runnel.compat.support.ChildProcess.Result;
import dev.runnel.compat.support.Clients;
import dev.runnel.compat.support.PythonScripts;
import dev.runnel.compat.support.StoredBatches;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Clients from before Kafka 0.11, which never send ApiVersions and speak the legacy message formats:
 * kafka-python 2.0.2 pinned with {@code api_version} to 0.9 (Produce v0 and Fetch v0: magic 0), 0.10.0
 * (Produce v2, Fetch v2: magic 1), 0.10.1 (Fetch v3) and 0.11 (magic 2, but old versions of the other APIs), and kcat with {@code api.version.request=false} and
 * {@code broker.version.fallback} 0.9.0 / 0.10.0. What they write is stored as RecordBatch v2 and read back by
 * them and by today's Java client; what a v2 producer writes (with headers) is read by them.
 */
class LegacyClientsTest {
    private static final Path KCAT = Path.of("/usr/bin/kcat");
    private static final String SCRIPT = "kafka_python_legacy.py";

    @RegisterExtension
    static final Broker broker = Broker.create();

    @ParameterizedTest(name = "kafka-python api_version {0}, compression {1}")
    @CsvSource({"0.9,none", "0.9,gzip", "0.10.0,none", "0.10.0,gzip", "0.10.1,none", "0.10.1,gzip", "0.11,gzip"})
    void kafkaPythonPinnedToAnOldReleaseProducesAndConsumes(String apiVersion, String codec) throws Exception {
        PythonScripts.assumeModule("kafka", "python3-kafka");
        String topic = Clients.uniqueTopic("legacy-py-" + apiVersion.replace('.', '_') + "-" + codec);
        Clients.createTopic(broker, topic, 1);
        boolean magic0 = apiVersion.equals("0.9");
        int count = 10;

        Result produced = PythonScripts.run(SCRIPT, "produce", broker.bootstrapServers(), topic, apiVersion, count, codec, "p")
                .assertExitCode(0);
        List<String> sent = lines(produced, "SENT ");
        assertEquals(count, sent.size(), produced.stdout());
        for (int i = 0; i < count; i++) {
            assertEquals(Integer.toString(i), sent.get(i).split(" ")[1], "offset of send " + i);
        }

        // stored as record batches v2, with the producer's codec (its lone synchronous records may go uncompressed)
        List<StoredBatches.Batch> batches = StoredBatches.assertCodec(broker, topic, 0, codec, true);
        assertTrue(batches.stream().allMatch(b -> b.magic() == 2 && b.crcValid()), "stored as v2: " + batches);

        // read back by the same pinned client (Fetch v0/v2/v3, down-converted)
        Result consumed = PythonScripts.run(SCRIPT, "consume", broker.bootstrapServers(), topic, apiVersion, count)
                .assertExitCode(0);
        List<String> records = lines(consumed, "RECORD ");
        assertEquals(count, records.size(), consumed.stdout());
        for (int i = 0; i < count; i++) {
            String[] f = records.get(i).split(" ");
            assertEquals(List.of(Integer.toString(i), "p-key-" + i, "p-value-" + i), List.of(f[1], f[2], f[3]));
            String sentTimestamp = sent.get(i).split(" ")[2];
            // magic 0 has no timestamp; magic 1 carries the producer's create time (type 0)
            assertEquals(magic0 ? "None None" : sentTimestamp + " 0", f[4] + " " + f[5], "timestamp of record " + i);
        }

        // and by today's Java client
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker)) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(Set.of(tp));
            consumer.seekToBeginning(Set.of(tp));
            List<ConsumerRecord<String, String>> read = Clients.pollAtLeast(consumer, count);
            for (int i = 0; i < count; i++) {
                ConsumerRecord<String, String> r = read.get(i);
                assertEquals("p-key-" + i, r.key());
                assertEquals("p-value-" + i, r.value());
                assertEquals(TimestampType.CREATE_TIME, r.timestampType());
                assertEquals(magic0 ? -1L : Long.parseLong(sent.get(i).split(" ")[2]), r.timestamp());
            }
        }
    }

    /** 0.8.1 commits with OffsetCommit/OffsetFetch v0, 0.8.2 with v1 (both without group membership); 0.9+ join groups. */
    @ParameterizedTest(name = "kafka-python api_version {0}")
    @CsvSource({"0.8.1", "0.8.2", "0.9", "0.10.0", "0.10.1", "0.11"})
    void kafkaPythonGroupConsumerCommitsOffsets(String apiVersion) throws Exception {
        PythonScripts.assumeModule("kafka", "python3-kafka");
        String topic = Clients.uniqueTopic("legacy-group-" + apiVersion.replace('.', '_'));
        String group = "legacy-group-" + topic;
        Clients.createTopic(broker, topic, 1);
        try (KafkaProducer<String, String> producer = Clients.producer(broker)) {
            for (int i = 0; i < 6; i++) {
                producer.send(new ProducerRecord<>(topic, 0, "k" + i, "v" + i)).get(20, TimeUnit.SECONDS);
            }
        }

        Result first = PythonScripts.run(SCRIPT, "group", broker.bootstrapServers(), topic, apiVersion, group, 6)
                .assertExitCode(0);
        assertEquals(6, lines(first, "RECORD ").size(), first.stdout());
        assertEquals(List.of("COMMITTED 6"), lines(first, "COMMITTED "));

        try (Admin admin = Clients.admin(broker)) {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get(20, TimeUnit.SECONDS);
            assertEquals(6, offsets.get(new TopicPartition(topic, 0)).offset(), "the old client's commit, seen by admin");
        }

        // the group resumes from its commit: two more records, only those are read
        try (KafkaProducer<String, String> producer = Clients.producer(broker)) {
            producer.send(new ProducerRecord<>(topic, 0, "k6", "v6")).get(20, TimeUnit.SECONDS);
            producer.send(new ProducerRecord<>(topic, 0, "k7", "v7")).get(20, TimeUnit.SECONDS);
        }
        Result second = PythonScripts.run(SCRIPT, "group", broker.bootstrapServers(), topic, apiVersion, group, 2)
                .assertExitCode(0);
        assertEquals(List.of("6 k6 v6", "7 k7 v7"), lines(second, "RECORD ").stream()
                .map(l -> String.join(" ", List.of(l.split(" ")).subList(1, 4))).toList());
        assertEquals(List.of("COMMITTED 8"), lines(second, "COMMITTED "));
    }

    @ParameterizedTest(name = "kcat broker.version.fallback={0} -z {1}")
    @CsvSource({"0.9.0,gzip", "0.9.0,lz4", "0.10.0,gzip", "0.10.0,lz4"})
    void kcatWithoutApiVersionRequestProducesAndConsumes(String fallback, String codec) throws Exception {
        assumeTrue(Files.isExecutable(KCAT), "kcat is not installed at " + KCAT + " (Debian package 'kcat'); skipping");
        String topic = Clients.uniqueTopic("legacy-kcat-" + fallback.replace('.', '_') + "-" + codec);
        Clients.createTopic(broker, topic, 1);
        StringBuilder stdin = new StringBuilder();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            stdin.append("key-").append(i).append(':').append("value ").append(i).append('\n');
            expected.add(i + "|key-" + i + "|value " + i);
        }
        kcat(fallback, stdin.toString(), "-P", "-t", topic, "-p", "0", "-K:", "-z", codec, "-X", "linger.ms=50")
                .assertExitCode(0);
        List<StoredBatches.Batch> batches = StoredBatches.assertCodec(broker, topic, 0, codec, true);
        assertTrue(batches.stream().allMatch(b -> b.magic() == 2), "stored as v2: " + batches);

        Result consumed = kcat(fallback, null, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%o|%k|%s\\n")
                .assertExitCode(0);
        assertEquals(expected, consumed.stdoutLines(), "kcat " + fallback + " reads back what it wrote");
    }

    /**
     * One topic, three producers: today's Java producer (idempotent, with headers: RecordBatch v2), kafka-python
     * as 0.9 (magic 0) and as 0.10.1 with gzip (magic 1 wrappers). Every consumer reads all fifteen records in
     * order, each in the format it understands: kafka-python as 0.9 (Fetch v0) and 0.10.1 (Fetch v3), kcat as
     * 0.9.0, and the Java consumer (Fetch v4+, zero-copy, the headers intact).
     */
    @Test
    void mixedProducersOldAndNewConsumersReadEverything() throws Exception {
        PythonScripts.assumeModule("kafka", "python3-kafka");
        String topic = Clients.uniqueTopic("legacy-mixed");
        Clients.createTopic(broker, topic, 1);
        try (KafkaProducer<String, String> producer = Clients.producer(broker)) {
            for (int i = 0; i < 5; i++) {
                ProducerRecord<String, String> r = new ProducerRecord<>(topic, 0, "new-key-" + i, "new-value-" + i);
                r.headers().add("index", Integer.toString(i).getBytes(StandardCharsets.UTF_8));
                producer.send(r).get(20, TimeUnit.SECONDS);
            }
        }
        PythonScripts.run(SCRIPT, "produce", broker.bootstrapServers(), topic, "0.9", 5, "none", "m0").assertExitCode(0);
        PythonScripts.run(SCRIPT, "produce", broker.bootstrapServers(), topic, "0.10.1", 5, "gzip", "m1").assertExitCode(0);
        List<String> expected = new ArrayList<>();
        for (String prefix : List.of("new", "m0", "m1")) {
            for (int i = 0; i < 5; i++) {
                expected.add(expected.size() + " " + prefix + "-key-" + i + " " + prefix + "-value-" + i);
            }
        }

        for (String apiVersion : List.of("0.9", "0.10.1")) {
            Result consumed = PythonScripts.run(SCRIPT, "consume", broker.bootstrapServers(), topic, apiVersion, 15)
                    .assertExitCode(0);
            assertEquals(expected, lines(consumed, "RECORD ").stream()
                    .map(l -> String.join(" ", List.of(l.split(" ")).subList(1, 4))).toList(), "kafka-python " + apiVersion);
        }
        if (Files.isExecutable(KCAT)) {
            Result consumed = kcat("0.9.0", null, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%o %k %s\\n")
                    .assertExitCode(0);
            assertEquals(expected, consumed.stdoutLines(), "kcat as 0.9.0");
        }
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker)) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(Set.of(tp));
            consumer.seekToBeginning(Set.of(tp));
            List<ConsumerRecord<String, String>> read = Clients.pollAtLeast(consumer, 15);
            List<String> seen = read.stream().map(r -> r.offset() + " " + r.key() + " " + r.value()).toList();
            assertEquals(expected, seen, "the Java consumer");
            for (int i = 0; i < 5; i++) {
                assertEquals(Integer.toString(i), new String(read.get(i).headers().lastHeader("index").value(),
                        StandardCharsets.UTF_8), "header of the v2 record " + i);
            }
            assertTrue(read.get(5).timestamp() == -1L && read.get(10).timestamp() > 0,
                    "magic 0 records have no timestamp, magic 1 records the producer's");
        }
    }

    private static Result kcat(String fallback, String stdin, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(KCAT.toString(), "-b", broker.bootstrapServers(), "-m", "15",
                "-X", "socket.timeout.ms=10000", "-X", "api.version.request=false", "-X", "broker.version.fallback=" + fallback));
        command.addAll(List.of(args));
        return ChildProcess.run(command, stdin, Duration.ofSeconds(30));
    }

    private static List<String> lines(Result result, String prefix) {
        return result.stdoutLines().stream().filter(l -> l.startsWith(prefix)).map(String::strip).toList();
    }
}
