package dev.runnel.compat.groups;

import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.Clients;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Group consumers and data for the group compatibility tests. */
final class GroupClients {
    private GroupClients() {
    }

    /** A consumer in {@code groupId} that commits by hand; the session timeout is the broker's minimum, 6 s. */
    static KafkaConsumer<String, String> groupConsumer(Broker broker, String groupId, String clientId, Map<String, Object> overrides) {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        config.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 6_000);
        config.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 500);
        config.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) Clients.TIMEOUT.toMillis());
        config.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        config.putAll(overrides);
        return new KafkaConsumer<>(config);
    }

    /** Produces {@code perPartition} records to each partition: key "p-i", value "topic/p/i". */
    static List<String> produce(Broker broker, String topic, int partitions, int from, int perPartition) throws Exception {
        List<String> values = new ArrayList<>();
        try (KafkaProducer<String, String> producer = Clients.producer(broker)) {
            for (int p = 0; p < partitions; p++) {
                for (int i = from; i < from + perPartition; i++) {
                    String value = topic + "/" + p + "/" + i;
                    producer.send(new ProducerRecord<>(topic, p, p + "-" + i, value)).get(Clients.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                    values.add(value);
                }
            }
        }
        return values;
    }

    /** Polls each consumer in turn until together they have seen {@code expected} records (or fails after the timeout). */
    @SafeVarargs
    static List<ConsumerRecord<String, String>> pollTogether(int expected, Duration timeout, KafkaConsumer<String, String>... consumers) {
        List<ConsumerRecord<String, String>> seen = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (seen.size() < expected) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("expected " + expected + " records within " + timeout + " but got " + seen.size());
            }
            for (KafkaConsumer<String, String> c : consumers) {
                c.poll(Duration.ofMillis(100)).forEach(seen::add);
            }
        }
        return seen;
    }
}
