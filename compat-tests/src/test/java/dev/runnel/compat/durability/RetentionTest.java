package dev.runnel.compat.durability;

import static dev.runnel.compat.durability.RetentionClients.files;
import static dev.runnel.compat.durability.RetentionClients.offset;
import static dev.runnel.compat.durability.RetentionClients.readAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.Clients;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Time and size retention and segment.ms rolling, seen by the stock Java client: records past
 * {@code retention.ms} (by their timestamps) or beyond {@code retention.bytes} disappear whole segment by whole
 * segment, ListOffsets earliest follows, and the segment files are deleted after {@code file.delete.delay.ms}.
 */
class RetentionTest {
    @RegisterExtension
    static final Broker broker = Broker.create()
            .with("log.retention.check.interval.ms", "100")
            // the broker-level default for topics without retention.ms (Kafka's is log.retention.hours=168)
            .with("log.retention.minutes", "60");

    private static final String PAD = "x".repeat(100);

    @Test
    void recordsOlderThanRetentionMsGoSegmentBySegment() throws Exception {
        String topic = Clients.uniqueTopic("retention-time");
        TopicPartition tp = new TopicPartition(topic, 0);
        RetentionClients.createTopic(broker, topic, Map.of("retention.ms", "3600000", "segment.bytes", "1024",
                "file.delete.delay.ms", "100"));
        long now = System.currentTimeMillis();
        try (KafkaProducer<String, String> producer = Clients.producer(broker)) {
            // 40 records stamped two hours ago, then 10 from now: only the old ones are past retention
            for (int i = 0; i < 40; i++) {
                producer.send(new ProducerRecord<>(topic, 0, now - 7_200_000L, "old" + i, PAD)).get(10, TimeUnit.SECONDS);
            }
            for (int i = 0; i < 10; i++) {
                producer.send(new ProducerRecord<>(topic, 0, now, "new" + i, PAD)).get(10, TimeUnit.SECONDS);
            }
        }
        // whole segments go: the log starts at the segment holding offset 40 (it has new records, so it stays)
        Await.untilPasses(Clients.TIMEOUT, () -> {
            long earliest = offset(broker, tp, OffsetSpec.earliest());
            assertTrue(earliest > 30 && earliest <= 40, "earliest " + earliest);
            assertEquals(String.format("%020d.log", earliest), files(broker, tp, ".log").get(0));
        });
        long earliest = offset(broker, tp, OffsetSpec.earliest());
        List<ConsumerRecord<String, String>> left = readAll(broker, tp);
        assertEquals(50 - earliest, left.size(), "what is left: " + left);
        assertEquals(earliest, left.get(0).offset());
        assertEquals("new0", left.get((int) (40 - earliest)).key());
        assertEquals(50, offset(broker, tp, OffsetSpec.latest()));
        // the removed segments' files are renamed .deleted, then deleted after file.delete.delay.ms
        Await.untilPasses(Clients.TIMEOUT, () -> assertEquals(List.of(), files(broker, tp, ".deleted")));
    }

    @Test
    void whenEverythingExpiredTheLogIsEmptyAndAppendsContinue() throws Exception {
        String topic = Clients.uniqueTopic("retention-all");
        TopicPartition tp = new TopicPartition(topic, 0);
        RetentionClients.createTopic(broker, topic, Map.of("retention.ms", "60000"));
        long old = System.currentTimeMillis() - 3_600_000L;
        try (KafkaProducer<String, String> producer = Clients.producer(broker)) {
            for (int i = 0; i < 5; i++) {
                producer.send(new ProducerRecord<>(topic, 0, old, "k" + i, "v" + i)).get(10, TimeUnit.SECONDS);
            }
            // a single (active) segment, all of it expired: the log rolls and deletes it
            Await.untilPasses(Clients.TIMEOUT, () -> assertEquals(5, offset(broker, tp, OffsetSpec.earliest())));
            assertEquals(5, offset(broker, tp, OffsetSpec.latest()));
            assertEquals(5, producer.send(new ProducerRecord<>(topic, 0, "after", "retention")).get(10, TimeUnit.SECONDS)
                    .offset(), "the idempotent producer goes on at the same offset");
        }
        List<ConsumerRecord<String, String>> left = readAll(broker, tp);
        assertEquals(1, left.size());
        assertEquals("retention", left.get(0).value());
    }

    @Test
    void theBrokersLogRetentionMinutesAppliesToTopicsWithoutRetentionMs() throws Exception {
        String topic = Clients.uniqueTopic("retention-broker");
        TopicPartition tp = new TopicPartition(topic, 0);
        RetentionClients.createTopic(broker, topic, Map.of("segment.bytes", "1024"));
        long now = System.currentTimeMillis();
        try (KafkaProducer<String, String> producer = Clients.producer(broker)) {
            for (int i = 0; i < 20; i++) {
                // 61 minutes old: past log.retention.minutes=60
                producer.send(new ProducerRecord<>(topic, 0, now - 61 * 60_000L, "old" + i, PAD)).get(10, TimeUnit.SECONDS);
            }
            producer.send(new ProducerRecord<>(topic, 0, now, "fresh", PAD)).get(10, TimeUnit.SECONDS);
        }
        Await.untilPasses(Clients.TIMEOUT, () -> assertTrue(offset(broker, tp, OffsetSpec.earliest()) > 10,
                "old segments deleted"));
        List<ConsumerRecord<String, String>> left = readAll(broker, tp);
        assertEquals("fresh", left.get(left.size() - 1).key());
    }

    @Test
    void retentionBytesDeletesTheOldestSegments() throws Exception {
        String topic = Clients.uniqueTopic("retention-size");
        TopicPartition tp = new TopicPartition(topic, 0);
        RetentionClients.createTopic(broker, topic, Map.of("retention.bytes", "3000", "segment.bytes", "1024"));
        try (KafkaProducer<String, String> producer = Clients.producer(broker)) {
            for (int i = 0; i < 100; i++) {
                producer.send(new ProducerRecord<>(topic, 0, "k" + i, PAD)).get(10, TimeUnit.SECONDS);
            }
        }
        Await.untilPasses(Clients.TIMEOUT, () -> {
            long bytes = 0;
            for (String f : files(broker, tp, ".log")) {
                bytes += java.nio.file.Files.size(RetentionClients.partitionDir(broker, tp).resolve(f));
            }
            // Kafka's rule: the oldest segments go while what stays is at least retention.bytes
            assertTrue(bytes >= 3000 && bytes < 3000 + 1024, "bytes left " + bytes);
        });
        long earliest = offset(broker, tp, OffsetSpec.earliest());
        assertTrue(earliest > 0 && earliest < 100, "earliest " + earliest);
        List<ConsumerRecord<String, String>> left = readAll(broker, tp);
        assertEquals(100 - earliest, left.size());
        assertEquals("k99", left.get(left.size() - 1).key());
    }

    @Test
    void segmentMsRollsByRecordTimestamps() throws Exception {
        String topic = Clients.uniqueTopic("segment-ms");
        TopicPartition tp = new TopicPartition(topic, 0);
        RetentionClients.createTopic(broker, topic, Map.of("segment.ms", "1000"));
        long t = System.currentTimeMillis();
        try (KafkaProducer<String, String> producer = Clients.producer(broker)) {
            // Kafka rolls when a batch's timestamp is segment.ms past the first batch of the active segment
            for (int i = 0; i < 4; i++) {
                producer.send(new ProducerRecord<>(topic, 0, t + i * 1500L, "k" + i, "v" + i)).get(10, TimeUnit.SECONDS);
            }
        }
        assertEquals(List.of("00000000000000000000.log", "00000000000000000001.log", "00000000000000000002.log",
                "00000000000000000003.log"), files(broker, tp, ".log"));
        assertEquals(4, readAll(broker, tp).size());
    }
}
