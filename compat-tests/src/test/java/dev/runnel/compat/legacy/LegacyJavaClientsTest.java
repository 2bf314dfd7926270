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
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Java kafka-clients 0.10.2.2 (Produce v2 and Fetch v3: message format v1, converted both ways), 0.11.0.3 (the
 * first with RecordBatch v2, but the old versions of every other API), 1.1.1 and 2.0.1, each from Maven Central in a
 * child JVM with only the jars it shipped with ({@code resources/legacy-java/}): produce with codecs of its time, read
 * back by itself, by another old client (0.10.2.2 reads the others' records down-converted) and by today's Java
 * client; a consumer group that commits and resumes; the AdminClient (0.11+) with Kafka 3.x topic configs.
 */
class LegacyJavaClientsTest {
    private static final Path JARS = Path.of(System.getProperty("runnel.legacyJavaClientsDir", "target/legacy-java"));

    @RegisterExtension
    static final Broker broker = Broker.create();

    @ParameterizedTest(name = "kafka-clients {0}, compression {1}")
    @CsvSource({"0.10.2.2,none", "0.10.2.2,gzip", "0.10.2.2,snappy", "0.10.2.2,lz4",
            "0.11.0.3,none", "0.11.0.3,gzip", "0.11.0.3,snappy", "0.11.0.3,lz4", "1.1.1,gzip", "1.1.1,lz4",
            "2.0.1,snappy", "2.0.1,lz4"})
    void produceAndConsumeWithAnOldJavaClient(String version, String codec) throws Exception {
        String other = version.equals("0.10.2.2") ? "0.11.0.3" : "0.10.2.2";
        String topic = Clients.uniqueTopic("legacy-java-" + version.replace('.', '_') + "-" + codec);
        Clients.createTopic(broker, topic, 1);
        int count = 10;
        Result produced = run(version, "produce", topic, count, codec, "j").assertExitCode(0);
        List<String> sent = lines(produced, "SENT ");
        assertEquals(count, sent.size(), produced.stdout() + produced.stderr());
        for (int i = 0; i < count; i++) {
            assertEquals(Integer.toString(i), sent.get(i).split(" ")[1], "offset of send " + i);
            assertTrue(Long.parseLong(sent.get(i).split(" ")[2]) > 0, "a CreateTime timestamp: " + sent.get(i));
        }
        List<StoredBatches.Batch> batches = StoredBatches.assertCodec(broker, topic, 0, codec, true);
        assertTrue(batches.stream().allMatch(b -> b.magic() == 2 && b.crcValid()), "stored as v2: " + batches);

        List<String> expected = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            expected.add(i + " j-key-" + i + " j-value-" + i + " " + sent.get(i).split(" ")[2] + " CreateTime");
        }
        for (String reader : List.of(version, other)) {
            Result consumed = run(reader, "consume", topic, count).assertExitCode(0);
            assertEquals(expected, lines(consumed, "RECORD ").stream().map(l -> l.substring("RECORD ".length())).toList(),
                    "read by kafka-clients " + reader);
        }
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker)) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(Set.of(tp));
            consumer.seekToBeginning(Set.of(tp));
            List<ConsumerRecord<String, String>> read = Clients.pollAtLeast(consumer, count);
            assertEquals(expected, read.stream().map(r -> r.offset() + " " + r.key() + " " + r.value() + " "
                    + r.timestamp() + " " + r.timestampType()).toList(), "read by today's Java client");
        }
    }

    @ParameterizedTest(name = "kafka-clients {0}")
    @ValueSource(strings = {"0.10.2.2", "0.11.0.3", "1.1.1", "2.0.1"})
    void consumerGroupCommitsAndResumes(String version) throws Exception {
        String topic = Clients.uniqueTopic("legacy-java-group-" + version.replace('.', '_'));
        String group = "group-" + topic;
        Clients.createTopic(broker, topic, 1);
        try (KafkaProducer<String, String> producer = Clients.producer(broker)) {
            for (int i = 0; i < 6; i++) {
                producer.send(new ProducerRecord<>(topic, 0, "k" + i, "v" + i)).get(20, TimeUnit.SECONDS);
            }
        }
        Result first = run(version, "group", topic, group, 4).assertExitCode(0);
        int read = lines(first, "RECORD ").size();
        assertTrue(read >= 4, first.stdout());
        assertEquals(List.of("COMMITTED " + read), lines(first, "COMMITTED "));
        Result second = run(version, "group", topic, group, 6 - read).assertExitCode(0);
        List<String> rest = lines(second, "RECORD ");
        assertEquals(6 - read, rest.size(), second.stdout());
        if (!rest.isEmpty()) {
            assertEquals(Integer.toString(read), rest.get(0).split(" ")[1], "resumes at the committed offset");
        }
        assertEquals(List.of("COMMITTED 6"), lines(second, "COMMITTED "));
    }

    /** AdminClient (0.11+) creates a topic with the Kafka 3.x configs old admin paths set, then describes it. */
    @ParameterizedTest(name = "kafka-clients {0}")
    @ValueSource(strings = {"0.11.0.3", "1.1.1", "2.0.1"})
    void adminClientCreatesATopicWithOldConfigs(String version) throws Exception {
        String topic = Clients.uniqueTopic("legacy-admin-" + version.replace('.', '_'));
        Result r = runSource(version, "OldJavaAdmin.java", "admin", topic).assertExitCode(0);
        assertEquals(List.of("CREATED", "PARTITIONS 2", "LISTED true", "CONFIG message.format.version=0.10.0",
                "CONFIG message.timestamp.difference.max.ms=3600000"), r.stdoutLines().stream()
                .filter(l -> l.matches("^(CREATED|PARTITIONS|LISTED|CONFIG).*")).toList(), r.stdout() + r.stderr());
    }

    private static Result run(String version, Object... args) throws Exception {
        return runSource(version, "OldJavaClient.java", args);
    }

    private static Result runSource(String version, String file, Object... args) throws Exception {
        Path dir = JARS.resolve(version);
        assumeTrue(Files.isDirectory(dir), "kafka-clients " + version + " jars not found in " + dir
                + " (copied by the maven-dependency-plugin at process-test-resources); skipping");
        Path source = Path.of(LegacyJavaClientsTest.class.getResource("/legacy-java/" + file).toURI());
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", dir.toAbsolutePath() + "/*", source.toString(), String.valueOf(args[0]), broker.bootstrapServers()));
        for (int i = 1; i < args.length; i++) {
            command.add(String.valueOf(args[i]));
        }
        return ChildProcess.run(command, null, Duration.ofSeconds(90));
    }

    private static List<String> lines(Result result, String prefix) {
        return result.stdoutLines().stream().filter(l -> l.startsWith(prefix)).map(String::strip).toList();
    }
}
