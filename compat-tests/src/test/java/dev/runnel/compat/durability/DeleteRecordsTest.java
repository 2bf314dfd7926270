package dev.runnel.compat.durability;

import static dev.runnel.compat.durability.RetentionClients.files;
import static dev.runnel.compat.durability.RetentionClients.offset;
import static dev.runnel.compat.durability.RetentionClients.readAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.ChildProcess;
import dev.runnel.compat.support.Clients;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.OffsetOutOfRangeException;
import org.apache.kafka.common.errors.PolicyViolationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * DeleteRecords with the Java AdminClient and Kafka's kafka-delete-records tool: the log start offset moves,
 * ListOffsets earliest follows it, a consumer positioned below it gets OFFSET_OUT_OF_RANGE and resets per
 * {@code auto.offset.reset}, segments below it are removed, and it survives a restart.
 */
class DeleteRecordsTest {
    @RegisterExtension
    static final Broker broker = Broker.create()
            .with("log.retention.check.interval.ms", "100");

    private static final String PAD = "y".repeat(100);

    private static String produce(int n) throws Exception {
        String topic = Clients.uniqueTopic("delete-records");
        RetentionClients.createTopic(broker, topic, Map.of("segment.bytes", "1024", "file.delete.delay.ms", "0"));
        try (KafkaProducer<String, String> producer = Clients.producer(broker)) {
            for (int i = 0; i < n; i++) {
                producer.send(new ProducerRecord<>(topic, 0, "k" + i, PAD)).get(10, TimeUnit.SECONDS);
            }
        }
        return topic;
    }

    private static long deleteBefore(TopicPartition tp, long offset) throws Exception {
        try (Admin admin = Clients.admin(broker)) {
            return admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(offset))).lowWatermarks().get(tp)
                    .get(Clients.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).lowWatermark();
        }
    }

    @Test
    void adminDeleteRecordsMovesTheLogStartAndRemovesSegmentsBelowIt() throws Exception {
        TopicPartition tp = new TopicPartition(produce(40), 0);
        assertEquals(8, files(broker, tp, ".log").size(), "segments of five records");
        // offset 27 is inside the segment that starts at 25 (five records a segment)
        assertEquals(27, deleteBefore(tp, 27));
        assertEquals(27, offset(broker, tp, OffsetSpec.earliest()));
        List<ConsumerRecord<String, String>> left = readAll(broker, tp);
        assertEquals(13, left.size());
        assertEquals(27, left.get(0).offset());
        // a lower offset does not move it back
        assertEquals(27, deleteBefore(tp, 10));
        // the next retention pass removes the segments wholly below offset 27
        Await.untilPasses(Clients.TIMEOUT, () -> assertEquals("00000000000000000025.log", files(broker, tp, ".log").get(0)));
        // kept across a restart
        broker.restart();
        assertEquals(27, offset(broker, tp, OffsetSpec.earliest()));
        assertEquals(40, offset(broker, tp, OffsetSpec.latest()));
        assertTrue(Files.readString(broker.logDir().resolve("log-start-offset-checkpoint")).contains(tp.topic() + " 0 27"),
                "Kafka's log-start-offset-checkpoint");
    }

    @Test
    void consumersBelowTheLogStartResetPerTheirPolicy() throws Exception {
        TopicPartition tp = new TopicPartition(produce(20), 0);
        assertEquals(12, deleteBefore(tp, 12));
        // earliest: a consumer asking for offset 3 starts again at 12
        try (KafkaConsumer<String, String> c = Clients.consumer(broker,
                Map.of(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"))) {
            c.assign(List.of(tp));
            c.seek(tp, 3);
            List<ConsumerRecord<String, String>> got = Clients.pollAtLeast(c, 1);
            assertEquals(12, got.get(0).offset());
        }
        // latest: it skips to the end and sees only what comes next
        try (KafkaConsumer<String, String> c = Clients.consumer(broker,
                Map.of(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest"))) {
            c.assign(List.of(tp));
            c.seek(tp, 3);
            Await.untilPasses(Clients.TIMEOUT, () -> {
                c.poll(Duration.ofMillis(100));
                assertEquals(20, c.position(tp), "reset to the log end");
            });
            try (KafkaProducer<String, String> producer = Clients.producer(broker)) {
                producer.send(new ProducerRecord<>(tp.topic(), 0, "later", "v")).get(10, TimeUnit.SECONDS);
            }
            List<ConsumerRecord<String, String>> got = Clients.pollAtLeast(c, 1);
            assertEquals(20, got.get(0).offset());
            assertEquals("later", got.get(0).key());
        }
        // none: the client says so
        try (KafkaConsumer<String, String> c = Clients.consumer(broker,
                Map.of(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none"))) {
            c.assign(List.of(tp));
            c.seek(tp, 3);
            assertThrows(org.apache.kafka.clients.consumer.OffsetOutOfRangeException.class, () -> {
                long deadline = System.nanoTime() + Clients.TIMEOUT.toNanos();
                while (System.nanoTime() < deadline) {
                    c.poll(Duration.ofMillis(100));
                }
            });
        }
    }

    @Test
    void errorsAsKafkaGivesThem() throws Exception {
        TopicPartition tp = new TopicPartition(produce(5), 0);
        ExecutionException beyond = assertThrows(ExecutionException.class, () -> deleteBefore(tp, 6));
        assertInstanceOf(OffsetOutOfRangeException.class, beyond.getCause());

        String compacted = Clients.uniqueTopic("compacted");
        RetentionClients.createTopic(broker, compacted, Map.of("cleanup.policy", "compact"));
        ExecutionException policy = assertThrows(ExecutionException.class,
                () -> deleteBefore(new TopicPartition(compacted, 0), 0));
        assertInstanceOf(PolicyViolationException.class, policy.getCause());
        // RecordsToDelete.beforeOffset(-1) is "up to the high watermark"
        assertEquals(5, deleteBefore(tp, -1));
        assertEquals(5, offset(broker, tp, OffsetSpec.earliest()));
    }

    @Test
    void kafkaDeleteRecordsToolWorks() throws Exception {
        TopicPartition tp = new TopicPartition(produce(10), 0);
        Path json = Files.createTempFile("delete-records", ".json");
        try {
            Files.writeString(json, "{\"partitions\":[{\"topic\":\"" + tp.topic() + "\",\"partition\":0,\"offset\":7}],"
                    + "\"version\":1}");
            ChildProcess.Result r = ChildProcess.kafkaTool("org.apache.kafka.tools.DeleteRecordsCommand", null,
                    "--bootstrap-server", broker.bootstrapServers(), "--offset-json-file", json.toString())
                    .assertExitCode(0);
            assertTrue(r.stdout().contains("low_watermark: 7"), r.describe());
        } finally {
            Files.deleteIfExists(json);
        }
        assertEquals(7, offset(broker, tp, OffsetSpec.earliest()));
        List<ConsumerRecord<String, String>> left = new ArrayList<>(readAll(broker, tp));
        assertEquals(3, left.size());
        assertEquals("k7", left.get(0).key());
    }
}
