package dev.runnel.compat.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.compat.support.Await;
import dev.runnel.testkit.EmbeddedRunnel;
import dev.runnel.testkit.EmbeddedRunnelCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * A user's failover test written with the testkit's in-JVM cluster: three nodes, a topic of six partitions whose
 * leaders spread over them, the Java producer and a consumer group across all three; the active controller node is
 * stopped, the two others elect a new one and topics can be created again; the node is restarted and the cluster has
 * three brokers again. Every wait is bounded; nothing sleeps.
 */
class EmbeddedClusterTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final int PARTITIONS = 6;
    private static final int RECORDS = 60;

    @Test
    void stoppingTheActiveControllerElectsAnotherAndTheNodeComesBack() throws Exception {
        long t0 = System.nanoTime();
        try (EmbeddedRunnelCluster cluster = EmbeddedRunnel.cluster(3).start()) {
            long startMs = (System.nanoTime() - t0) / 1_000_000;
            System.out.printf("[testkit-cluster] MEASURED: 3-node cluster started in %d ms (first cluster of this JVM, "
                    + "classes loaded on the way): %s%n", startMs, cluster);
            String bootstrap = cluster.bootstrapServers();

            // Through the clients: three brokers, a topic whose six leaders spread over them.
            try (Admin admin = admin(bootstrap)) {
                assertEquals(Set.of(1, 2, 3), brokerIds(admin));
                admin.createTopics(List.of(new NewTopic("orders", Optional.of(PARTITIONS), Optional.empty())))
                        .all().get(WAIT.toSeconds(), TimeUnit.SECONDS);
            }
            Map<Integer, Integer> leaders = leaders(bootstrap, "orders");
            System.out.println("[testkit-cluster] leaders of orders (partition=node): " + leaders);
            assertEquals(PARTITIONS, leaders.size());
            assertEquals(Set.of(1, 2, 3), new TreeSet<>(leaders.values()), "leaders spread over the three nodes");

            // The Java producer writes to every partition (so to every broker); a consumer group reads it all back.
            try (KafkaProducer<String, String> producer = producer(bootstrap)) {
                for (int i = 0; i < RECORDS; i++) {
                    producer.send(new ProducerRecord<>("orders", i % PARTITIONS, "k" + i, "v" + i)).get(WAIT.toSeconds(), TimeUnit.SECONDS);
                }
            }
            assertEquals(RECORDS, consumeAll(bootstrap, "orders", "billing", RECORDS).size());

            // Stop the active controller: the two others elect one of themselves.
            int controller = cluster.awaitActiveController(WAIT);
            long stopAt = System.nanoTime();
            cluster.stop(controller);
            long stoppedMs = (System.nanoTime() - stopAt) / 1_000_000;
            int next = cluster.awaitActiveController(WAIT);
            long electedMs = (System.nanoTime() - stopAt) / 1_000_000;
            System.out.printf("[testkit-cluster] MEASURED: controller node %d stopped (graceful) in %d ms; node %d is the "
                    + "active controller %d ms after the stop began%n", controller, stoppedMs, next, electedMs);
            assertNotEquals(controller, next);
            Set<Integer> survivors = new TreeSet<>(Set.of(1, 2, 3));
            survivors.remove(controller);
            int[] survivorIds = survivors.stream().mapToInt(Integer::intValue).toArray();
            String survivorBootstrap = cluster.bootstrapServers(survivorIds);

            // The survivors report the new controller and two brokers to clients, and a topic can be created again.
            try (Admin admin = admin(survivorBootstrap)) {
                Await.untilPasses(WAIT, () -> {
                    assertEquals(survivors, brokerIds(admin));
                    assertEquals(next, admin.describeCluster().controller().get(10, TimeUnit.SECONDS).id());
                });
                long createAt = System.nanoTime();
                admin.createTopics(List.of(new NewTopic("after-failover", Optional.of(4), Optional.empty())))
                        .all().get(WAIT.toSeconds(), TimeUnit.SECONDS);
                System.out.printf("[testkit-cluster] topic after-failover created through the survivors in %d ms%n",
                        (System.nanoTime() - createAt) / 1_000_000);
            }
            Map<Integer, Integer> afterLeaders = leaders(survivorBootstrap, "after-failover");
            assertEquals(4, afterLeaders.size());
            assertEquals(survivors, new TreeSet<>(afterLeaders.values()), "new topic led by the survivors only");
            try (KafkaProducer<String, String> producer = producer(survivorBootstrap)) {
                for (int p = 0; p < 4; p++) {
                    producer.send(new ProducerRecord<>("after-failover", p, "k", "after-" + p)).get(WAIT.toSeconds(), TimeUnit.SECONDS);
                }
            }

            // Restart the stopped node on its ports and data: three brokers again, and it still has its records.
            long restartAt = System.nanoTime();
            cluster.restart(controller);
            System.out.printf("[testkit-cluster] MEASURED: node %d restarted and unfenced in %d ms%n", controller,
                    (System.nanoTime() - restartAt) / 1_000_000);
            try (Admin admin = admin(bootstrap)) {
                Await.untilPasses(WAIT, () -> assertEquals(Set.of(1, 2, 3), brokerIds(admin)));
            }
            assertEquals(Set.of(1, 2, 3), cluster.liveBrokerIds(controller));
            assertEquals(RECORDS + 4, consumeAll(bootstrap, "orders", "audit", RECORDS).size()
                    + consumeAll(bootstrap, "after-failover", "audit", 4).size());
        }
    }

    private static Admin admin(String bootstrap) {
        return Admin.create(Map.of("bootstrap.servers", bootstrap, "request.timeout.ms", 10_000,
                "default.api.timeout.ms", 20_000));
    }

    private static Set<Integer> brokerIds(Admin admin) throws Exception {
        Set<Integer> ids = new TreeSet<>();
        for (Node n : admin.describeCluster().nodes().get(10, TimeUnit.SECONDS)) {
            ids.add(n.id());
        }
        return ids;
    }

    private static KafkaProducer<String, String> producer(String bootstrap) {
        Map<String, Object> p = new HashMap<>();
        p.put("bootstrap.servers", bootstrap);
        p.put("max.block.ms", 20_000);
        p.put("delivery.timeout.ms", 30_000);
        p.put("request.timeout.ms", 10_000);
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    /** Partition -> leader node, from the Metadata the producer reads (what clients route by). */
    private static Map<Integer, Integer> leaders(String bootstrap, String topic) {
        Map<Integer, Integer> leaders = new TreeMap<>();
        try (KafkaProducer<String, String> producer = producer(bootstrap)) {
            for (PartitionInfo p : producer.partitionsFor(topic)) {
                leaders.put(p.partition(), p.leader() == null ? -1 : p.leader().id());
            }
        }
        return leaders;
    }

    /** A member of consumer group {@code group} reads {@code topic} from the start until {@code count} records came. */
    private static List<String> consumeAll(String bootstrap, String topic, String group, int count) {
        Map<String, Object> p = new HashMap<>();
        p.put("bootstrap.servers", bootstrap);
        p.put("group.id", group + "-" + topic);
        p.put("auto.offset.reset", "earliest");
        p.put("request.timeout.ms", 10_000);
        p.put("default.api.timeout.ms", 20_000);
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (values.size() < count && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    values.add(r.value());
                }
            }
            consumer.commitSync(Duration.ofSeconds(10));
        }
        assertTrue(values.size() >= count, "group " + group + " read " + values.size() + " of " + count + " records of " + topic);
        return values;
    }
}
