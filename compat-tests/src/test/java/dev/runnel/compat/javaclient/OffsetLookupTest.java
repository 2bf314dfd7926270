package dev.runnel.compat.javaclient;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.Clients;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Offset lookups (ListOffsets) from the consumer and the AdminClient: earliest and latest offsets
 * of a written and of an empty partition, offsetsForTimes with exact, in-between and too-late
 * timestamps, the max-timestamp spec, and seeking to what they return.
 */
@Tag("java-client")
class OffsetLookupTest {

    @RegisterExtension
    static final Broker broker = Broker.create();

    /** Record i of partition 0 has CreateTime BASE + i * 1000. */
    private static final long BASE = 1_700_000_000_000L;
    private static final int COUNT = 10;

    private static String topic;
    private static TopicPartition written;
    private static TopicPartition empty;

    @BeforeAll
    static void writeRecordsWithKnownTimestamps() throws Exception {
        System.out.println("[compat] " + Clients.describeVersion());
        topic = Clients.uniqueTopic("offsets");
        Clients.createTopic(broker, topic, 2);
        written = new TopicPartition(topic, 0);
        empty = new TopicPartition(topic, 1);
        try (KafkaProducer<String, String> producer = Clients.producer(broker)) {
            for (int i = 0; i < COUNT; i++) {
                producer.send(new ProducerRecord<>(topic, 0, BASE + i * 1000L, "k" + i, "v" + i))
                        .get(30, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void beginningAndEndOffsets() {
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker)) {
            assertEquals(Map.of(written, 0L, empty, 0L), consumer.beginningOffsets(Set.of(written, empty)));
            assertEquals(Map.of(written, (long) COUNT, empty, 0L), consumer.endOffsets(Set.of(written, empty)));
        }
    }

    @Test
    void offsetsForTimesFindsTheFirstRecordAtOrAfterTheTimestamp() {
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker)) {
            OffsetAndTimestamp exact = consumer.offsetsForTimes(Map.of(written, BASE + 3000)).get(written);
            assertNotNull(exact, "a record has exactly this timestamp");
            assertEquals(3, exact.offset());
            assertEquals(BASE + 3000, exact.timestamp());

            OffsetAndTimestamp between = consumer.offsetsForTimes(Map.of(written, BASE + 3500)).get(written);
            assertNotNull(between, "a later record exists");
            assertEquals(4, between.offset());
            assertEquals(BASE + 4000, between.timestamp());

            OffsetAndTimestamp beforeAll = consumer.offsetsForTimes(Map.of(written, 0L)).get(written);
            assertNotNull(beforeAll);
            assertEquals(0, beforeAll.offset());

            Map<TopicPartition, Long> tooLate = new HashMap<>();
            tooLate.put(written, BASE + COUNT * 1000L);
            tooLate.put(empty, BASE);
            Map<TopicPartition, OffsetAndTimestamp> none = consumer.offsetsForTimes(tooLate);
            assertNull(none.get(written), "no record at or after a timestamp later than all of them");
            assertNull(none.get(empty), "an empty partition has no record for any timestamp");
        }
    }

    @Test
    void seekingToTheOffsetOfATimestampReadsFromThere() {
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker)) {
            consumer.assign(Set.of(written));
            OffsetAndTimestamp found = consumer.offsetsForTimes(Map.of(written, BASE + 6200)).get(written);
            assertNotNull(found);
            consumer.seek(written, found.offset());
            List<ConsumerRecord<String, String>> records = Clients.pollAtLeast(consumer, COUNT - 7);
            assertEquals(COUNT - 7, records.size());
            for (int i = 0; i < records.size(); i++) {
                ConsumerRecord<String, String> record = records.get(i);
                assertEquals(7 + i, record.offset());
                assertEquals("k" + (7 + i), record.key());
                assertEquals(BASE + (7 + i) * 1000L, record.timestamp(), "CreateTime is kept");
                assertEquals(TimestampType.CREATE_TIME, record.timestampType());
            }
        }
    }

    @Test
    void adminListOffsetsForEachSpec() throws Exception {
        try (Admin admin = Clients.admin(broker)) {
            assertEquals(0, listOffset(admin, OffsetSpec.earliest()).offset(), "earliest");
            assertEquals(COUNT, listOffset(admin, OffsetSpec.latest()).offset(), "latest");

            ListOffsetsResult.ListOffsetsResultInfo max = listOffset(admin, OffsetSpec.maxTimestamp());
            assertEquals(COUNT - 1, max.offset(), "offset of the record with the largest timestamp");
            assertEquals(BASE + (COUNT - 1) * 1000L, max.timestamp(), "the largest timestamp");

            ListOffsetsResult.ListOffsetsResultInfo byTime = listOffset(admin, OffsetSpec.forTimestamp(BASE + 3500));
            assertEquals(4, byTime.offset(), "first offset at or after the timestamp");
            assertEquals(BASE + 4000, byTime.timestamp());
        }
    }

    private static ListOffsetsResult.ListOffsetsResultInfo listOffset(Admin admin, OffsetSpec spec) throws Exception {
        return admin.listOffsets(Map.of(written, spec)).partitionResult(written).get(20, TimeUnit.SECONDS);
    }

    @Test
    void seekToBeginningAndEndMovePositions() {
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker)) {
            consumer.assign(Set.of(written, empty));
            consumer.seekToEnd(Set.of(written, empty));
            assertEquals(COUNT, consumer.position(written));
            assertEquals(0, consumer.position(empty));
            consumer.seekToBeginning(Set.of(written));
            assertEquals(0, consumer.position(written));
        }
    }
}
