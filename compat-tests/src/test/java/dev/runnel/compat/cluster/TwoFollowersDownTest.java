package dev.runnel.compat.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Await;
import dev.runnel.compat.support.Clients;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Replication factor 3 with {@code min.insync.replicas=2}, and both followers killed: the leader alone is too few,
 * so acks=all writes are refused with NOT_ENOUGH_REPLICAS and none is acknowledged; when the followers return, writes
 * go on and everything acknowledged is there. (The metadata quorum is a controller-only node, so it survives the
 * loss of two brokers.)
 */
@Tag("cluster")
class TwoFollowersDownTest {

    @RegisterExtension
    static final ClusterProcesses cluster = ClusterProcesses.builder()
            .roles(ClusterProcesses.CONTROLLER, ClusterProcesses.BROKER, ClusterProcesses.BROKER, ClusterProcesses.BROKER)
            .with("broker.session.timeout.ms", "3000")
            .with("broker.heartbeat.interval.ms", "500")
            .with("replica.lag.time.max.ms", "3000")
            .build();

    @Test
    void twoFollowersDownMeansNotEnoughReplicasAndNothingAcknowledgedIsLost() throws Exception {
        String brokers = cluster.bootstrapServers();
        String topic = Clients.uniqueTopic("two-down");
        try (Admin admin = ClusterClients.admin(brokers)) {
            admin.createTopics(List.of(new NewTopic(topic, Optional.of(1), Optional.of((short) 3))
                    .configs(Map.of("min.insync.replicas", "2")))).all().get(30, TimeUnit.SECONDS);
            Await.untilPasses(Duration.ofSeconds(30), () -> assertEquals(3, partition(admin, topic).isr().size()));
        }
        Map<Long, String> acked = new HashMap<>();
        int leader;
        List<Integer> followers = new ArrayList<>();
        try (Admin admin = ClusterClients.admin(brokers)) {
            TopicPartitionInfo p = partition(admin, topic);
            leader = p.leader().id();
            p.replicas().forEach(n -> {
                if (n.id() != leader) {
                    followers.add(n.id());
                }
            });
        }
        try (KafkaProducer<String, String> producer = ClusterClients.producer(brokers,
                Map.of("enable.idempotence", false, "retries", 0, "request.timeout.ms", 5_000, "delivery.timeout.ms", 10_000,
                        "linger.ms", 0))) {
            RecordMetadata m = producer.send(new ProducerRecord<>(topic, 0, "k", "before")).get(30, TimeUnit.SECONDS);
            acked.put(m.offset(), "before");
            for (int f : followers) {
                cluster.kill9(f);
            }
            try (Admin admin = ClusterClients.admin(cluster.bootstrap(leader))) {
                long t0 = System.nanoTime();
                Await.untilPasses(Duration.ofSeconds(30), () -> assertEquals(List.of(leader),
                        partition(admin, topic).isr().stream().map(n -> n.id()).toList()));
                System.out.printf("[replication] MEASURED: ISR shrank to the leader alone %d ms after both followers were killed%n",
                        (System.nanoTime() - t0) / 1_000_000);
            }
            int refused = 0;
            for (int i = 0; i < 5; i++) {
                try {
                    producer.send(new ProducerRecord<>(topic, 0, "k", "refused-" + i)).get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    assertInstanceOf(NotEnoughReplicasException.class, e.getCause(), "Kafka's error: " + e);
                    refused++;
                }
            }
            assertEquals(5, refused, "every acks=all write refused while the ISR is one broker");
            for (int f : followers) {
                cluster.restart(f);
            }
            try (Admin admin = ClusterClients.admin(brokers)) {
                Await.untilPasses(Duration.ofSeconds(60), () -> assertEquals(3, partition(admin, topic).isr().size()));
            }
            RecordMetadata after = producer.send(new ProducerRecord<>(topic, 0, "k", "after")).get(30, TimeUnit.SECONDS);
            acked.put(after.offset(), "after");
        }
        Map<Long, String> read = new HashMap<>();
        try (KafkaConsumer<String, String> consumer = ClusterClients.consumer(brokers, Map.of())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (consumer.position(tp) < end && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    read.put(r.offset(), r.value());
                }
            }
        }
        assertTrue(read.entrySet().containsAll(acked.entrySet()), "acknowledged " + acked + ", read " + read);
        assertFalse(read.values().stream().anyMatch(v -> v.startsWith("refused")), "refused writes were never appended: " + read);
    }

    private static TopicPartitionInfo partition(Admin admin, String topic) throws Exception {
        return admin.describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS).get(topic).partitions().get(0);
    }
}
