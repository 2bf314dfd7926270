package dev.runnel.compat.transactions;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.runnel.testkit.BootstrapServers;
import dev.runnel.testkit.RunnelBroker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The end-to-end version of {@link ReadCommittedTest}'s stand-in: a stock transactional Java producer commits one
 * transaction and aborts another; read_committed sees only the committed one, read_uncommitted both.
 */
@Tag("transaction-coordinator")
@RunnelBroker(topics = "txn-e2e:1")
class TransactionalProducerTest {
    private static final TopicPartition TP = new TopicPartition("txn-e2e", 0);

    @BootstrapServers
    static String bootstrap;

    @Test
    void commitIsVisibleToReadCommittedAndAbortIsNot() throws Exception {
        Properties pp = new Properties();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        pp.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "txn-e2e-producer");
        pp.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 20_000);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(pp)) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(TP.topic(), 0, "k", "committed-0"));
            producer.send(new ProducerRecord<>(TP.topic(), 0, "k", "committed-1"));
            producer.commitTransaction();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(TP.topic(), 0, "k", "aborted-0"));
            producer.flush();
            producer.abortTransaction();
        }
        assertEquals(List.of("committed-0", "committed-1"), readAll("read_committed"));
        assertEquals(List.of("committed-0", "committed-1", "aborted-0"), readAll("read_uncommitted"));
    }

    private static List<String> readAll(String isolation) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
            c.assign(List.of(TP));
            c.seekToBeginning(List.of(TP));
            long end = c.endOffsets(List.of(TP)).get(TP);
            List<String> values = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (c.position(TP) < end && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                    values.add(r.value());
                }
            }
            return values;
        }
    }
}
