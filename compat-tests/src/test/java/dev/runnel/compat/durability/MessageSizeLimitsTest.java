package dev.runnel.compat.durability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.Clients;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code message.max.bytes} and the segment size, with Kafka's error for each case as the Java producer sees it:
 * <ul>
 *   <li>a batch over {@code message.max.bytes} gets MESSAGE_TOO_LARGE (10): the Java producer splits a batch
 *       of several records and retries the halves, so every record still arrives, in order (a lone record
 *       that is too large fails with RecordTooLargeException: see BrokerLimitsTest);</li>
 *   <li>an append larger than the segment ({@code log.segment.bytes}) gets RECORD_LIST_TOO_LARGE (18), which
 *       the producer reports as RecordBatchTooLargeException and does not retry.</li>
 * </ul>
 */
class MessageSizeLimitsTest {
    private static final int MESSAGE_MAX_BYTES = 100_000;
    private static final int SEGMENT_BYTES = 60_000;

    @RegisterExtension
    static final Broker broker = Broker.create().with("message.max.bytes", Integer.toString(MESSAGE_MAX_BYTES));

    @Test
    void aBatchOverMessageMaxBytesIsSplitByTheProducerAndEveryRecordArrives() throws Exception {
        String topic = Clients.uniqueTopic("split");
        Clients.createTopic(broker, topic, 1);
        int records = 60;
        String value = "v".repeat(5_000); // 60 x 5 KB in one 300 KB batch: three times message.max.bytes
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        try (KafkaProducer<String, String> producer = Clients.producer(broker, Map.of(
                ProducerConfig.BATCH_SIZE_CONFIG, 400_000,
                ProducerConfig.LINGER_MS_CONFIG, 1_000,
                ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 1_000_000,
                ProducerConfig.COMPRESSION_TYPE_CONFIG, "none"))) {
            for (int i = 0; i < records; i++) {
                sent.add(producer.send(new ProducerRecord<>(topic, 0, "k" + i, i + ":" + value)));
            }
            producer.flush();
            for (int i = 0; i < records; i++) {
                assertEquals(i, sent.get(i).get(20, TimeUnit.SECONDS).offset(), "record " + i + " after the split");
            }
        }
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker)) {
            consumer.assign(Set.of(tp));
            consumer.seekToBeginning(Set.of(tp));
            List<ConsumerRecord<String, String>> read = Clients.pollAtLeast(consumer, records);
            for (int i = 0; i < records; i++) {
                assertEquals(i + ":" + value, read.get(i).value());
            }
        }
    }

    @Test
    void anAppendLargerThanTheSegmentIsRefusedWithRecordListTooLarge() throws Exception {
        try (Broker small = Broker.create().with("log.segment.bytes", Integer.toString(SEGMENT_BYTES)).start()) {
            String topic = Clients.uniqueTopic("segment-limit");
            Clients.createTopic(small, topic, 1);
            try (KafkaProducer<String, String> producer = Clients.producer(small, Map.of(
                    ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 1_000_000))) {
                ExecutionException e = assertThrows(ExecutionException.class, () -> producer.send(
                        new ProducerRecord<>(topic, 0, "big", "x".repeat(80_000))).get(20, TimeUnit.SECONDS));
                assertInstanceOf(RecordBatchTooLargeException.class, e.getCause(), "RECORD_LIST_TOO_LARGE: " + e);
                assertEquals(0, producer.send(new ProducerRecord<>(topic, 0, "small", "y")).get(20, TimeUnit.SECONDS).offset(),
                        "the producer goes on after the refusal");
            }
        }
    }
}
