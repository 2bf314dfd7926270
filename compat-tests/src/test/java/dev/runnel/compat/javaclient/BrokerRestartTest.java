package dev.runnel.compat.javaclient;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.Clients;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What clients wrote survives a graceful broker restart on the same log directory: records,
 * topics with their partition counts and config overrides; new writes continue the offsets.
 */
@Tag("java-client")
class BrokerRestartTest {

    @RegisterExtension
    static final Broker broker = Broker.create();

    @BeforeAll
    static void printClientVersion() {
        System.out.println("[compat] " + Clients.describeVersion());
    }

    @Test
    void recordsTopicsAndConfigsSurviveARestart() throws Exception {
        String topic = Clients.uniqueTopic("durable");
        try (Admin admin = Clients.admin(broker)) {
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get(20, TimeUnit.SECONDS);
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            admin.incrementalAlterConfigs(Map.of(resource, List.of(new AlterConfigOp(
                    new ConfigEntry("retention.ms", "7200000"), AlterConfigOp.OpType.SET))))
                    .all().get(20, TimeUnit.SECONDS);
        }
        try (KafkaProducer<String, String> producer = Clients.producer(broker)) {
            Clients.awaitPartitions(producer, topic, 3);
            for (int i = 0; i < 30; i++) {
                producer.send(new ProducerRecord<>(topic, i % 3, "key-" + i, "before-" + i)).get(30, TimeUnit.SECONDS);
            }
        }

        broker.restart();

        try (Admin admin = Clients.admin(broker)) {
            assertEquals(3, admin.describeTopics(List.of(topic)).allTopicNames().get(20, TimeUnit.SECONDS)
                    .get(topic).partitions().size(), "partitions after restart");
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            Config config = admin.describeConfigs(List.of(resource)).all().get(20, TimeUnit.SECONDS).get(resource);
            assertEquals("7200000", config.get("retention.ms").value(), "topic override after restart");
        }
        try (KafkaProducer<String, String> producer = Clients.producer(broker)) {
            assertEquals(10, producer.send(new ProducerRecord<>(topic, 1, "key-new", "after"))
                    .get(30, TimeUnit.SECONDS).offset(), "offsets continue after the restart");
        }
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker)) {
            for (int p = 0; p < 3; p++) {
                TopicPartition tp = new TopicPartition(topic, p);
                consumer.assign(Set.of(tp));
                consumer.seekToBeginning(Set.of(tp));
                int expected = p == 1 ? 11 : 10;
                List<ConsumerRecord<String, String>> records = Clients.pollAtLeast(consumer, expected);
                List<String> values = new ArrayList<>();
                records.forEach(r -> values.add(r.offset() + ":" + r.value()));
                List<String> wanted = new ArrayList<>();
                for (int k = 0; k < 10; k++) {
                    wanted.add(k + ":before-" + (k * 3 + p));
                }
                if (p == 1) {
                    wanted.add("10:after");
                }
                assertEquals(wanted, values, "partition " + p + " after restart");
            }
        }
    }
}
