package dev.runnel.compat.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Stock Java kafka-clients pointed at a {@link Broker}, with timeouts short enough that a broker
 * which does not answer fails a test in seconds instead of minutes. Only APIs present in both
 * kafka-clients 3.9.x and 4.x are used here.
 */
public final class Clients {

    /** How long any single client wait in a test may take before the test fails. */
    public static final Duration TIMEOUT = Duration.ofSeconds(20);

    private Clients() {
    }

    /** The kafka-clients version actually loaded, and the one the build meant to load. */
    public static String describeVersion() {
        return "kafka-clients " + loadedVersion()
                + " (runnel.kafkaClientsVersion=" + System.getProperty("runnel.kafkaClientsVersion") + ")";
    }

    /**
     * The version the loaded client reports (and sends in ApiVersions): the first
     * {@code kafka/kafka-version.properties} on the classpath, as the client's AppInfoParser reads it (that class
     * moved to {@code common.utils.internals} in kafka-clients 4.4, so it is not named here).
     */
    public static String loadedVersion() {
        try (java.io.InputStream in = KafkaProducer.class.getClassLoader()
                .getResourceAsStream("kafka/kafka-version.properties")) {
            if (in == null) {
                return "unknown";
            }
            java.util.Properties props = new java.util.Properties();
            props.load(in);
            return props.getProperty("version", "unknown");
        } catch (java.io.IOException e) {
            return "unknown (" + e + ")";
        }
    }

    /** {@link #loadedVersion()}: the version the loaded kafka-clients reports. */
    public static String clientsVersion() {
        return loadedVersion();
    }

    public static String uniqueTopic(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    public static KafkaProducer<String, String> producer(Broker broker, Map<String, Object> overrides) {
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) TIMEOUT.toMillis());
        config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis());
        config.putAll(overrides);
        return new KafkaProducer<>(config);
    }

    public static KafkaProducer<String, String> producer(Broker broker) {
        return producer(broker, Map.of());
    }

    /** A consumer without a group: for assign()/seek() only, never commits. */
    public static KafkaConsumer<String, String> consumer(Broker broker, Map<String, Object> overrides) {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis());
        config.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        config.putAll(overrides);
        return new KafkaConsumer<>(config);
    }

    public static KafkaConsumer<String, String> consumer(Broker broker) {
        return consumer(broker, Map.of());
    }

    public static Admin admin(Broker broker) {
        Map<String, Object> config = new HashMap<>();
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis());
        return Admin.create(config);
    }

    /**
     * Creates a topic with replication factor 1 and waits until describeTopics shows all its
     * partitions with a leader (Kafka makes a new topic visible asynchronously).
     */
    public static void createTopic(Broker broker, String topic, int partitions) throws Exception {
        try (Admin admin = admin(broker)) {
            admin.createTopics(List.of(new NewTopic(topic, Optional.of(partitions), Optional.of((short) 1))))
                    .all().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            Await.untilPasses(TIMEOUT, () -> {
                TopicDescription description = admin.describeTopics(List.of(topic)).allTopicNames()
                        .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).get(topic);
                assertEquals(partitions, description.partitions().size(), "partitions of " + description);
                for (TopicPartitionInfo p : description.partitions()) {
                    if (p.leader() == null || p.leader().isEmpty()) {
                        fail("no leader yet: " + description);
                    }
                }
            });
        }
    }

    /**
     * Waits until the producer's metadata shows {@code partitions} partitions of the topic (Kafka
     * makes topics created through the admin API visible asynchronously).
     */
    public static void awaitPartitions(KafkaProducer<String, String> producer, String topic, int partitions)
            throws Exception {
        Await.untilPasses(TIMEOUT, () -> assertEquals(partitions, producer.partitionsFor(topic).size(),
                "partitions of " + topic + " in the producer's metadata"));
    }

    /**
     * Polls until {@code expected} records arrived or {@link #TIMEOUT} passed; fails in the latter
     * case with what did arrive. Returns every record seen (possibly more than expected).
     */
    public static List<ConsumerRecord<String, String>> pollAtLeast(KafkaConsumer<String, String> consumer,
                                                                   int expected) {
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (records.size() < expected) {
            if (System.nanoTime() - deadline > 0) {
                fail("expected " + expected + " records within " + TIMEOUT + " but got " + records.size()
                        + ": " + records);
            }
            consumer.poll(Duration.ofMillis(200)).forEach(records::add);
        }
        return records;
    }

    /**
     * A plain Java round trip on a fresh topic: create it, produce three records with the default
     * (idempotent, acks=all) producer, read them back with assign() + seekToBeginning(). Used to show
     * the broker still serves normal clients after something unusual happened.
     */
    public static void assertRoundTripWorks(Broker broker) throws Exception {
        String topic = uniqueTopic("still-works");
        createTopic(broker, topic, 1);
        try (KafkaProducer<String, String> producer = producer(broker)) {
            for (int i = 0; i < 3; i++) {
                long offset = producer.send(new ProducerRecord<>(topic, 0, "k" + i, "v" + i))
                        .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).offset();
                assertEquals(i, offset, "offset of record " + i);
            }
        }
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaConsumer<String, String> consumer = consumer(broker)) {
            consumer.assign(Set.of(tp));
            consumer.seekToBeginning(Set.of(tp));
            List<ConsumerRecord<String, String>> records = pollAtLeast(consumer, 3);
            List<String> seen = new ArrayList<>();
            records.forEach(r -> seen.add(r.offset() + ":" + r.key() + "=" + r.value()));
            assertEquals(List.of("0:k0=v0", "1:k1=v1", "2:k2=v2"), seen, "records read back");
        }
    }
}
