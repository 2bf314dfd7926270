package dev.runnel.compat.javaclient;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.Clients;
import dev.runnel.compat.support.StoredBatches;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A stock Java producer writes keyed records with headers — synchronously one by one, then a burst
 * of asynchronous sends that the client batches — under each acks setting and each compression
 * codec; a consumer with assign() + seekToBeginning() reads every one of them back in order.
 */
@Tag("java-client")
class ProduceConsumeRoundTripTest {

    @RegisterExtension
    static final Broker broker = Broker.create();

    private static final int SYNC_RECORDS = 10;
    private static final int ASYNC_RECORDS = 200;
    private static final int TOTAL = SYNC_RECORDS + ASYNC_RECORDS;

    @BeforeAll
    static void printClientVersion() {
        System.out.println("[compat] " + Clients.describeVersion());
    }

    static Stream<Arguments> producerSettings() {
        return Stream.of(
                Arguments.of("defaults (idempotent, acks=all)", Map.of(), true, "none"),
                Arguments.of("acks=0", Map.of(ProducerConfig.ACKS_CONFIG, "0",
                        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false), false, "none"),
                Arguments.of("acks=1", Map.of(ProducerConfig.ACKS_CONFIG, "1",
                        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false), false, "none"),
                Arguments.of("acks=all", Map.of(ProducerConfig.ACKS_CONFIG, "all"), true, "none"),
                Arguments.of("gzip", Map.of(ProducerConfig.COMPRESSION_TYPE_CONFIG, "gzip"), true, "gzip"),
                Arguments.of("snappy", Map.of(ProducerConfig.COMPRESSION_TYPE_CONFIG, "snappy"), true, "snappy"),
                Arguments.of("lz4", Map.of(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4"), true, "lz4"),
                Arguments.of("zstd", Map.of(ProducerConfig.COMPRESSION_TYPE_CONFIG, "zstd"), true, "zstd"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("producerSettings")
    void everyRecordComesBackInOrderWithKeysValuesAndHeaders(String label, Map<String, Object> settings,
                                                             boolean idempotent, String codec) throws Exception {
        String topic = Clients.uniqueTopic("roundtrip");
        Clients.createTopic(broker, topic, 1);
        boolean acked = !"0".equals(settings.get(ProducerConfig.ACKS_CONFIG));

        try (KafkaProducer<String, String> producer = Clients.producer(broker, settings)) {
            // Synchronous sends: each returns the next offset.
            for (int i = 0; i < SYNC_RECORDS; i++) {
                RecordMetadata metadata = producer.send(record(topic, i)).get(30, TimeUnit.SECONDS);
                assertEquals(topic, metadata.topic());
                assertEquals(0, metadata.partition());
                if (acked) {
                    assertEquals(i, metadata.offset(), label + ": offset returned by sync send " + i);
                } else {
                    assertFalse(metadata.hasOffset(), label + ": acks=0 cannot know the offset");
                }
            }
            // A burst the client groups into multi-record batches.
            List<Future<RecordMetadata>> futures = new ArrayList<>();
            for (int i = SYNC_RECORDS; i < TOTAL; i++) {
                futures.add(producer.send(record(topic, i)));
            }
            producer.flush();
            for (int i = SYNC_RECORDS; i < TOTAL; i++) {
                RecordMetadata metadata = futures.get(i - SYNC_RECORDS).get(30, TimeUnit.SECONDS);
                if (acked) {
                    assertEquals(i, metadata.offset(), label + ": offset returned for async send " + i);
                }
            }
        }

        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker)) {
            consumer.assign(Set.of(tp));
            consumer.seekToBeginning(Set.of(tp));
            List<ConsumerRecord<String, String>> records = Clients.pollAtLeast(consumer, TOTAL);
            assertEquals(TOTAL, records.size(), label + ": records read back");
            for (int i = 0; i < TOTAL; i++) {
                assertRecord(i, records.get(i));
            }
            assertEquals(Map.of(tp, (long) TOTAL), consumer.endOffsets(Set.of(tp)), "end offset");
        }

        List<StoredBatches.Batch> batches = StoredBatches.fetchFromStart(broker, topic, 0);
        assertFalse(batches.isEmpty(), "a raw fetch returns the batches");
        assertTrue(batches.size() < TOTAL, label + ": the async burst was stored as multi-record batches, got "
                + batches.size() + " batches");
        for (StoredBatches.Batch batch : batches) {
            assertEquals(2, batch.magic(), "record batch v2");
            assertTrue(batch.crcValid(), "stored batch keeps a valid CRC: " + batch);
            assertEquals(codec, batch.codec(), label + ": the batch is stored with the producer's codec: " + batch);
            if (idempotent) {
                assertNotEquals(-1L, batch.producerId(), "an idempotent producer's batch carries its producer id");
            } else {
                assertEquals(-1L, batch.producerId(), "a non-idempotent batch has no producer id");
            }
        }
    }

    @Test
    void seekToAnOffsetStartsReadingThere() throws Exception {
        String topic = Clients.uniqueTopic("seek");
        Clients.createTopic(broker, topic, 1);
        try (KafkaProducer<String, String> producer = Clients.producer(broker)) {
            for (int i = 0; i < 20; i++) {
                producer.send(record(topic, i));
            }
            producer.flush();
        }
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker)) {
            consumer.assign(Set.of(tp));
            consumer.seek(tp, 13);
            List<ConsumerRecord<String, String>> records = Clients.pollAtLeast(consumer, 7);
            assertEquals(7, records.size());
            for (int i = 0; i < 7; i++) {
                assertRecord(13 + i, records.get(i));
            }
            assertEquals(20, consumer.position(tp), "position after reading to the end");

            consumer.seek(tp, 2);
            assertRecord(2, Clients.pollAtLeast(consumer, 1).get(0));
        }
    }

    @Test
    void smallFetchSizesWalkThroughManyBatchesInOrder() throws Exception {
        String topic = Clients.uniqueTopic("small-fetches");
        Clients.createTopic(broker, topic, 1);
        int count = 3000;
        String padding = "x".repeat(300);
        try (KafkaProducer<String, String> producer = Clients.producer(broker,
                Map.of(ProducerConfig.BATCH_SIZE_CONFIG, 8192, ProducerConfig.LINGER_MS_CONFIG, 5))) {
            for (int i = 0; i < count; i++) {
                producer.send(new ProducerRecord<>(topic, 0, "key-" + i, i + padding));
            }
            producer.flush();
        }
        TopicPartition tp = new TopicPartition(topic, 0);
        // Fetch responses much smaller than the data: many fetches, each ending in the middle of a
        // batch that the next fetch must return again from its start.
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker, Map.of(
                "max.partition.fetch.bytes", 10_000, "fetch.max.bytes", 10_000, "max.poll.records", 97))) {
            consumer.assign(Set.of(tp));
            consumer.seekToBeginning(Set.of(tp));
            List<ConsumerRecord<String, String>> records = Clients.pollAtLeast(consumer, count);
            assertEquals(count, records.size(), "no record twice, none missing");
            for (int i = 0; i < count; i++) {
                assertEquals(i, records.get(i).offset());
                assertEquals("key-" + i, records.get(i).key());
                assertEquals(i + padding, records.get(i).value());
            }
        }
        assertTrue(StoredBatches.fetchFromStart(broker, topic, 0).size() > 20, "the data spans many batches");
    }

    @Test
    void aReadCommittedConsumerSeesNonTransactionalRecords() throws Exception {
        String topic = Clients.uniqueTopic("read-committed");
        Clients.createTopic(broker, topic, 1);
        try (KafkaProducer<String, String> producer = Clients.producer(broker)) {
            for (int i = 0; i < 5; i++) {
                producer.send(record(topic, i)).get(30, TimeUnit.SECONDS);
            }
        }
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker, Map.of("isolation.level", "read_committed"))) {
            assertEquals(Map.of(tp, 5L), consumer.endOffsets(Set.of(tp)), "last stable offset = end of the log");
            consumer.assign(Set.of(tp));
            consumer.seekToBeginning(Set.of(tp));
            List<ConsumerRecord<String, String>> records = Clients.pollAtLeast(consumer, 5);
            for (int i = 0; i < 5; i++) {
                assertRecord(i, records.get(i));
            }
        }
    }

    private static ProducerRecord<String, String> record(String topic, int i) {
        ProducerRecord<String, String> record = new ProducerRecord<>(topic, 0, "key-" + i, "value-" + i + "-é✓");
        record.headers().add("index", Integer.toString(i).getBytes(StandardCharsets.UTF_8));
        record.headers().add("empty", new byte[0]);
        record.headers().add("null-valued", null);
        return record;
    }

    private static void assertRecord(int i, ConsumerRecord<String, String> record) {
        assertEquals(i, record.offset(), "offset");
        assertEquals("key-" + i, record.key(), "key at offset " + i);
        assertEquals("value-" + i + "-é✓", record.value(), "value at offset " + i);
        Header[] headers = record.headers().toArray();
        assertEquals(3, headers.length, "headers at offset " + i);
        assertEquals("index", headers[0].key());
        assertArrayEquals(Integer.toString(i).getBytes(StandardCharsets.UTF_8), headers[0].value());
        assertEquals("empty", headers[1].key());
        assertArrayEquals(new byte[0], headers[1].value());
        assertEquals("null-valued", headers[2].key());
        assertEquals(null, headers[2].value(), "a null header value stays null");
    }
}
