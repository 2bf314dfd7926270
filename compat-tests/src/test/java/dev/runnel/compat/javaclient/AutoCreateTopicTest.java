package dev.runnel.compat.javaclient;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.Clients;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Producing to a topic nobody created: the broker creates it from its Metadata request with
 * num.partitions partitions, as Kafka does with auto.create.topics.enable=true (the default), and
 * does not when that is false.
 */
@Tag("java-client")
class AutoCreateTopicTest {

    @RegisterExtension
    static final Broker broker = Broker.create().with("num.partitions", "3");

    @BeforeAll
    static void printClientVersion() {
        System.out.println("[compat] " + Clients.describeVersion());
    }

    @Test
    void producingToAnUnknownTopicCreatesItWithNumPartitions() throws Exception {
        String topic = Clients.uniqueTopic("auto");
        try (Admin admin = Clients.admin(broker)) {
            assertFalse(admin.listTopics().names().get(20, TimeUnit.SECONDS).contains(topic), "not there before");
        }
        try (KafkaProducer<String, String> producer = Clients.producer(broker)) {
            RecordMetadata metadata = producer.send(new ProducerRecord<>(topic, 2, "k", "v")).get(30, TimeUnit.SECONDS);
            assertEquals(2, metadata.partition());
            assertEquals(0, metadata.offset());
            assertEquals(3, producer.partitionsFor(topic).size(), "the producer sees num.partitions partitions");
        }
        try (Admin admin = Clients.admin(broker)) {
            TopicDescription description = admin.describeTopics(List.of(topic)).allTopicNames()
                    .get(20, TimeUnit.SECONDS).get(topic);
            assertEquals(3, description.partitions().size());
            description.partitions().forEach(p -> assertEquals(Broker.NODE_ID, p.leader().id(), "leader"));
        }
        TopicPartition tp = new TopicPartition(topic, 2);
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker)) {
            consumer.assign(Set.of(tp));
            consumer.seekToBeginning(Set.of(tp));
            assertEquals("v", Clients.pollAtLeast(consumer, 1).get(0).value());
        }
    }

    @Test
    void withAutoCreateDisabledTheTopicIsNotCreated() throws Exception {
        try (Broker strict = Broker.create().with("auto.create.topics.enable", "false").start()) {
            String topic = Clients.uniqueTopic("not-auto");
            try (KafkaProducer<String, String> producer = Clients.producer(strict,
                    Map.of(ProducerConfig.MAX_BLOCK_MS_CONFIG, 2000))) {
                ExecutionException e = assertThrows(ExecutionException.class,
                        () -> producer.send(new ProducerRecord<>(topic, "k", "v")).get(30, TimeUnit.SECONDS));
                assertInstanceOf(TimeoutException.class, e.getCause(), "metadata never shows the topic: " + e);
            }
            try (Admin admin = Clients.admin(strict)) {
                Set<String> names = admin.listTopics().names().get(20, TimeUnit.SECONDS);
                assertFalse(names.contains(topic), "no topic was created: " + names);
            }
            Clients.assertRoundTripWorks(strict);
        }
    }
}
