package dev.runnel.compat.javaclient;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.testkit.EmbeddedRunnel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * Incremental fetch sessions (KIP-227) with the stock Java consumer: on a topic of 200 partitions its idle fetches
 * shrink from the full partition list to a few dozen bytes, new records still arrive, and partitions it stops
 * assigning are forgotten. Measured against the same broker with sessions turned off
 * ({@code max.incremental.fetch.session.cache.slots=0}, every fetch full as before).
 */
class FetchSessionsTest {
    private static final int PARTITIONS = 200;

    /** What the consumer sent to the broker (not the bootstrap connection): requests and bytes. */
    private record Sent(double requests, double bytes) {
    }

    private static Sent sent(KafkaConsumer<?, ?> consumer) {
        double requests = 0;
        double bytes = 0;
        for (Map.Entry<MetricName, ? extends Metric> e : consumer.metrics().entrySet()) {
            MetricName n = e.getKey();
            String node = n.tags().get("node-id");
            if (!"consumer-node-metrics".equals(n.group()) || node == null || node.startsWith("node--")) {
                continue;
            }
            if (n.name().equals("request-total")) {
                requests += ((Number) e.getValue().metricValue()).doubleValue();
            } else if (n.name().equals("outgoing-byte-total")) {
                bytes += ((Number) e.getValue().metricValue()).doubleValue();
            }
        }
        return new Sent(requests, bytes);
    }

    private static KafkaConsumer<String, String> consumer(String bootstrap) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 50);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }

    private static void produce(String bootstrap, String topic, List<Integer> partitions, String prefix) throws Exception {
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            for (int partition : partitions) {
                producer.send(new ProducerRecord<>(topic, partition, "k", prefix + partition));
            }
            producer.flush();
        }
    }

    /** Polls until {@code expected} values arrived (at most 30 s); returns them. */
    private static Set<String> readValues(KafkaConsumer<String, String> consumer, int expected) {
        Set<String> values = new HashSet<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (values.size() < expected && System.nanoTime() < deadline) {
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                values.add(r.value());
            }
        }
        return values;
    }

    /** Mean bytes per request over idle polls (at least 20 requests, at most 15 s). */
    private static double idleBytesPerRequest(KafkaConsumer<String, String> consumer) {
        Sent before = sent(consumer);
        Sent now = before;
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (now.requests() - before.requests() < 20 && System.nanoTime() < deadline) {
            consumer.poll(Duration.ofMillis(100));
            now = sent(consumer);
        }
        double requests = now.requests() - before.requests();
        assertTrue(requests >= 20, "the consumer kept fetching: " + requests + " requests");
        return (now.bytes() - before.bytes()) / requests;
    }

    private static double run(EmbeddedRunnel broker) throws Exception {
        String topic = "wide";
        List<Integer> all = new ArrayList<>();
        for (int i = 0; i < PARTITIONS; i++) {
            all.add(i);
        }
        produce(broker.bootstrapServers(), topic, all, "first-");
        try (KafkaConsumer<String, String> consumer = consumer(broker.bootstrapServers())) {
            List<TopicPartition> assigned = new ArrayList<>();
            for (int i : all) {
                assigned.add(new TopicPartition(topic, i));
            }
            consumer.assign(assigned);
            assertEquals(PARTITIONS, readValues(consumer, PARTITIONS).size(), "one record from each partition");
            double idle = idleBytesPerRequest(consumer);

            // news in one partition of an idle session still arrives
            produce(broker.bootstrapServers(), topic, List.of(150), "second-");
            assertEquals(Set.of("second-150"), readValues(consumer, 1));

            // partitions no longer assigned are forgotten: their records do not come back
            consumer.assign(assigned.subList(0, 10));
            produce(broker.bootstrapServers(), topic, List.of(5, 150), "third-");
            Set<String> third = readValues(consumer, 1);
            assertEquals(Set.of("third-5"), third);
            return idle;
        }
    }

    @Test
    void anIdleConsumerOfTwoHundredPartitionsSendsTinyIncrementalFetches() throws Exception {
        double withSessions;
        double without;
        try (EmbeddedRunnel broker = EmbeddedRunnel.builder().topic("wide", PARTITIONS).start()) {
            withSessions = run(broker);
        }
        try (EmbeddedRunnel broker = EmbeddedRunnel.builder().topic("wide", PARTITIONS)
                .property("max.incremental.fetch.session.cache.slots", "0").start()) {
            without = run(broker);
        }
        System.out.printf("[fetch-sessions] MEASURED: an idle consumer of %d partitions sends %.0f bytes per request with "
                + "fetch sessions, %.0f without (%.1f%%)%n", PARTITIONS, withSessions, without, 100 * withSessions / without);
        assertTrue(without > 5_000, "a full fetch names every partition: " + without);
        assertTrue(withSessions < without / 10, "incremental fetches name nothing new: " + withSessions + " vs " + without);
    }
}
