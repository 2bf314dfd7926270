package dev.runnel.compat.javaclient;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.Clients;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The broker honours its size limits as Kafka does: message.max.bytes refuses a batch that is too
 * large (unless the topic's max.message.bytes allows it), and log.segment.bytes rolls the log into
 * several segments that consumers and timestamp lookups cross without noticing.
 */
@Tag("java-client")
class BrokerLimitsTest {

    private static final int MESSAGE_MAX_BYTES = 100_000;
    private static final int SEGMENT_BYTES = 1024 * 1024;

    @RegisterExtension
    static final Broker broker = Broker.create()
            .with("message.max.bytes", Integer.toString(MESSAGE_MAX_BYTES))
            .with("log.segment.bytes", Integer.toString(SEGMENT_BYTES));

    @BeforeAll
    static void printClientVersion() {
        System.out.println("[compat] " + Clients.describeVersion());
    }

    @Test
    void aBatchLargerThanMessageMaxBytesIsRefused() throws Exception {
        String topic = Clients.uniqueTopic("too-large");
        Clients.createTopic(broker, topic, 1);
        // The producer's own limit is raised so the broker is the one that must refuse.
        try (KafkaProducer<String, String> producer = Clients.producer(broker,
                Map.of(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 1_000_000))) {
            assertEquals(0, producer.send(new ProducerRecord<>(topic, 0, "small", "x".repeat(50_000)))
                    .get(30, TimeUnit.SECONDS).offset(), "a record within the limit is accepted");
            ExecutionException e = assertThrows(ExecutionException.class, () -> producer.send(
                    new ProducerRecord<>(topic, 0, "big", "x".repeat(200_000))).get(30, TimeUnit.SECONDS));
            assertInstanceOf(RecordTooLargeException.class, e.getCause(), "MESSAGE_TOO_LARGE: " + e);
            assertEquals(1, producer.send(new ProducerRecord<>(topic, 0, "small", "y"))
                    .get(30, TimeUnit.SECONDS).offset(), "the producer goes on after the refusal");
        }
    }

    @Test
    void aTopicsMaxMessageBytesOverridesTheBrokerLimit() throws Exception {
        String topic = Clients.uniqueTopic("large-allowed");
        try (Admin admin = Clients.admin(broker)) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1)
                    .configs(Map.of("max.message.bytes", "400000")))).all().get(20, TimeUnit.SECONDS);
        }
        try (KafkaProducer<String, String> producer = Clients.producer(broker,
                Map.of(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 1_000_000))) {
            Clients.awaitPartitions(producer, topic, 1);
            assertEquals(0, producer.send(new ProducerRecord<>(topic, 0, "big", "x".repeat(200_000)))
                    .get(30, TimeUnit.SECONDS).offset());
        }
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker)) {
            consumer.assign(Set.of(tp));
            consumer.seekToBeginning(Set.of(tp));
            assertEquals(200_000, Clients.pollAtLeast(consumer, 1).get(0).value().length());
        }
    }

    @Test
    void readsAndTimestampLookupsCrossSegmentBoundaries() throws Exception {
        String topic = Clients.uniqueTopic("segments");
        Clients.createTopic(broker, topic, 1);
        long base = 1_700_000_000_000L;
        int count = 3000;
        String value = "v".repeat(1000);
        try (KafkaProducer<String, String> producer = Clients.producer(broker)) {
            for (int i = 0; i < count; i++) {
                producer.send(new ProducerRecord<>(topic, 0, base + i, "key-" + i, value));
            }
            producer.flush();
        }
        Path partitionDir = broker.logDir().resolve(topic + "-0");
        List<String> segments;
        try (Stream<Path> files = Files.list(partitionDir)) {
            segments = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".log")).sorted().toList();
        }
        assertTrue(segments.size() >= 3, "about 3 MB in 1 MiB segments rolls several: " + segments);
        assertTrue(segments.stream().allMatch(n -> n.matches("\\d{20}\\.log")), "Kafka's segment names: " + segments);
        assertEquals("00000000000000000000.log", segments.get(0));

        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker)) {
            consumer.assign(Set.of(tp));
            consumer.seekToBeginning(Set.of(tp));
            List<ConsumerRecord<String, String>> records = Clients.pollAtLeast(consumer, count);
            for (int i = 0; i < count; i++) {
                assertEquals(i, records.get(i).offset());
                assertEquals("key-" + i, records.get(i).key());
            }

            // A lookup in the last segment and one in the middle of the log.
            for (int target : new int[] {count - 10, count / 2, 1}) {
                OffsetAndTimestamp found = consumer.offsetsForTimes(Map.of(tp, base + target)).get(tp);
                assertNotNull(found, "offset for timestamp of record " + target);
                assertEquals(target, found.offset(), "offsetsForTimes across segments");
            }
            long middleSegmentBase = Long.parseLong(segments.get(1).substring(0, 20));
            consumer.seek(tp, middleSegmentBase);
            assertEquals(middleSegmentBase, Clients.pollAtLeast(consumer, 1).get(0).offset(),
                    "reading from the first offset of a later segment");
        }
    }
}
