package dev.runnel.compat.groups;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.runnel.broker.BrokerConfig;
import dev.runnel.broker.RunnelServer;
import dev.runnel.compat.support.Clients;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Committed offsets live in __consumer_offsets: a broker restarted on the same log.dirs replays them, and a
 * consumer of the group continues where the last one committed.
 */
@Tag("java-client")
class OffsetsSurviveRestartTest {
    private static RunnelServer start(Path dir) throws Exception {
        Properties props = new Properties();
        props.setProperty("node.id", "1");
        props.setProperty("listeners", "PLAINTEXT://127.0.0.1:0");
        props.setProperty("log.dirs", dir.toString());
        return RunnelServer.start(BrokerConfig.fromProperties(props));
    }

    private static KafkaConsumer<String, String> consumer(RunnelServer server, String group) {
        Map<String, Object> c = new HashMap<>();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrapServers());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1);
        return new KafkaConsumer<>(c);
    }

    private static List<String> read(KafkaConsumer<String, String> consumer, int n) {
        List<String> out = new ArrayList<>();
        long deadline = System.nanoTime() + Clients.TIMEOUT.toNanos();
        while (out.size() < n && System.nanoTime() < deadline) {
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
                out.add(r.value());
            }
        }
        return out;
    }

    @Test
    void committedOffsetsComeBackAfterARestart() throws Exception {
        Path dir = Files.createTempDirectory("runnel-restart-");
        String topic = "restart-topic";
        String group = "restart-group";
        try {
            try (RunnelServer server = start(dir)) {
                Map<String, Object> admin = Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrapServers());
                try (Admin a = Admin.create(admin)) {
                    a.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(20, TimeUnit.SECONDS);
                }
                Map<String, Object> p = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrapServers(),
                        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName(),
                        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
                try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
                    for (int i = 0; i < 10; i++) {
                        producer.send(new ProducerRecord<>(topic, 0, null, "v" + i)).get(20, TimeUnit.SECONDS);
                    }
                }
                try (KafkaConsumer<String, String> c = consumer(server, group)) {
                    c.subscribe(List.of(topic));
                    assertEquals(List.of("v0", "v1", "v2", "v3", "v4", "v5"), read(c, 6));
                    c.commitSync(Map.of(new TopicPartition(topic, 0), new OffsetAndMetadata(6, "six")));
                }
            }

            try (RunnelServer server = start(dir)) {
                try (Admin a = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrapServers()))) {
                    Map<TopicPartition, OffsetAndMetadata> offsets = a.listConsumerGroupOffsets(group)
                            .partitionsToOffsetAndMetadata().get(20, TimeUnit.SECONDS);
                    assertEquals(6, offsets.get(new TopicPartition(topic, 0)).offset());
                    assertEquals("six", offsets.get(new TopicPartition(topic, 0)).metadata());
                    ConsumerGroupDescription d = a.describeConsumerGroups(List.of(group)).all().get(20, TimeUnit.SECONDS).get(group);
                    // (groupState() is 4.x, state() is 3.x: the description's text works for both clients)
                    assertEquals(true, d.toString().contains("State=Empty") || d.toString().contains("state=Empty"), d.toString());
                    assertEquals(false, d.isSimpleConsumerGroup(), "the group's protocol type came back too: " + d);
                }
                try (KafkaConsumer<String, String> c = consumer(server, group)) {
                    c.subscribe(List.of(topic));
                    assertEquals(List.of("v6", "v7", "v8", "v9"), read(c, 4));
                }
            }
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }
}
